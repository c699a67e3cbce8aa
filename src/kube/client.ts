// A thin JSON client for the Kubernetes API. kubeconfig.ts loads the kubeconfig (contexts,
// exec plugins, tokens, in-cluster config) and supplies TLS and auth; requests go through
// one keep-alive agent so paginated lists and parallel creates reuse connections.

import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { UserError } from '../core/errors.js';
import {
  explainTimeout,
  RequestTimeoutError,
  type RequestTimeouts,
  requestTimeouts,
  watchTimeouts,
} from '../core/http-timeouts.js';
import { parseJson } from '../core/json.js';
import { sleep } from '../core/time.js';
import type { KubeObject } from '../core/types.js';
import { type Connection, loadConnection } from './kubeconfig.js';

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  /** Give up on a request after this long without a byte (--request-timeout); 0: never. */
  requestTimeoutMs?: number;
}

export interface ApiStatus {
  kind?: 'Status';
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { retryAfterSeconds?: number };
}

/** An API answer that is not 2xx, carrying the server's Status message. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly status: ApiStatus,
    readonly method: string,
    readonly path: string,
  ) {
    super(status.message || `${method} ${path}: HTTP ${statusCode}`);
    this.name = 'ApiError';
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

export interface RequestParams {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Answer a successful response's body as it came (a Buffer), unparsed. */
  raw?: boolean;
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);
const MAX_ATTEMPTS = 6;
/**
 * How long connection failures are retried once this client has had an answer from the
 * server. Six attempts (at most ~6 s of back-off) are too short for an API server that
 * restarts: stopping, starting and becoming ready again takes ~5–15 s even for a single
 * local kube-apiserver (the e2e test of issue 8 holds it down for ~15 s). A server that never
 * answered keeps the short budget, so a wrong kubeconfig still fails within seconds.
 */
const RECONNECT_BUDGET_MS = 60_000;

/** Bounded exponential backoff with full jitter; a Retry-After header wins when present. */
function backoff(attempt: number, retryAfter?: number): number {
  if (retryAfter !== undefined && retryAfter > 0) return Math.min(retryAfter * 1000, 30_000);
  return Math.random() * Math.min(200 * 2 ** attempt, 5000);
}

/** Told of every answer the API server gives (retried ones included): how fast, and whether it throttled. */
export type ResponseObserver = (answer: {
  method: string;
  status: number;
  ms: number;
  retryAfterMs?: number;
}) => void;

/** Limits the attempts of mutating requests in flight (core/adaptive.ts AdaptiveGate). */
export interface AttemptGate {
  acquire(): Promise<void>;
  release(): void;
}

const GATED_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class KubeClient {
  readonly server: string;
  private readonly observers = new Set<ResponseObserver>();
  private gate?: AttemptGate;
  readonly contextName: string;
  private readonly agent: Agent | HttpAgent;
  private readonly base: URL;
  private readonly timeouts: RequestTimeouts;
  /** Set by the first HTTP answer (any status): from then on the server is worth waiting for. */
  private answered = false;

  private constructor(
    private readonly conn: Connection,
    concurrency: number,
    requestTimeoutMs: number | undefined,
  ) {
    this.server = conn.server;
    this.contextName = conn.contextName;
    this.base = new URL(conn.server);
    this.timeouts = requestTimeouts(requestTimeoutMs);
    const opts = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
    this.agent = this.base.protocol === 'http:' ? new HttpAgent(opts) : new Agent(opts);
  }

  /** Loads the kubeconfig like kubectl: --kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster. */
  static connect(
    opts: ConnectOptions = {},
    concurrency = 32,
    env: NodeJS.ProcessEnv = process.env,
  ): KubeClient {
    return new KubeClient(loadConnection(opts, env), concurrency, opts.requestTimeoutMs);
  }

  /** Observes every answer until the returned function is called. */
  observe(observer: ResponseObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Every attempt of a mutating request waits for `gate` until the returned function is called. */
  gateWrites(gate: AttemptGate): () => void {
    this.gate = gate;
    return () => {
      if (this.gate === gate) this.gate = undefined;
    };
  }

  /** The kubeconfig context's default namespace, if it names one. */
  get defaultNamespace(): string | undefined {
    return this.conn.namespace;
  }

  async request<T = unknown>(method: string, path: string, params: RequestParams = {}): Promise<T> {
    let connectionFailedSince: number | undefined;
    let answers = 0; // retryable HTTP answers (429, 5xx) so far: at most MAX_ATTEMPTS in all
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt<T>(method, path, params);
      } catch (err) {
        // A server that answered before and now does not connect in time may be restarting;
        // one that never answered, or took a request and went silent, is not retried.
        const connectionError =
          RETRYABLE_CODES.has((err as { code?: string }).code ?? '') ||
          (err instanceof RequestTimeoutError && err.phase !== 'response' && this.answered);
        const retryable =
          (err instanceof ApiError &&
            (err.statusCode === 429 ||
              err.statusCode === 503 ||
              err.statusCode === 502 ||
              err.statusCode === 504 ||
              (err.statusCode === 500 && method === 'GET'))) ||
          connectionError;
        if (!retryable) throw this.explain(err);
        const retryAfter =
          err instanceof ApiError ? err.status.details?.retryAfterSeconds : undefined;
        const wait = backoff(attempt, retryAfter);
        if (connectionError && this.answered) {
          // The server answered before and is gone now (a restart, a failover): wait for it
          // for a bounded time rather than a number of attempts.
          connectionFailedSince ??= Date.now();
          if (Date.now() + wait - connectionFailedSince > RECONNECT_BUDGET_MS)
            throw this.explain(err);
        } else if (connectionError ? attempt + 1 >= MAX_ATTEMPTS : ++answers >= MAX_ATTEMPTS) {
          throw this.explain(err);
        }
        await sleep(wait);
      }
    }
  }

  /** One attempt, through the gate when one is set and the request writes. */
  private async attempt<T>(method: string, path: string, params: RequestParams): Promise<T> {
    const gate = GATED_METHODS.has(method) ? this.gate : undefined;
    if (!gate) return this.once<T>(method, path, params);
    await gate.acquire();
    try {
      return await this.once<T>(method, path, params);
    } finally {
      gate.release();
    }
  }

  private explain(err: unknown): unknown {
    if (err instanceof RequestTimeoutError) {
      return explainTimeout(
        err,
        `the API server ${this.base.origin}`,
        `check the server address of context "${this.contextName}" in the kubeconfig`,
      );
    }
    const code = (err as { code?: string }).code;
    if ((code && RETRYABLE_CODES.has(code)) || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') {
      return new UserError(
        `cannot reach the Kubernetes API server at ${this.server} (${code})`,
        `check that the cluster is running and that context "${this.contextName}" is the one you meant`,
      );
    }
    if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
      return new UserError(
        `TLS verification of ${this.server} failed (${code})`,
        'check certificate-authority in the kubeconfig; verification is never turned off silently',
      );
    }
    if (err instanceof ApiError && err.statusCode === 401) {
      return new UserError(
        `the API server at ${this.server} rejected the credentials of context "${this.contextName}" (401 Unauthorized)`,
        'refresh your credentials (log in again) or pick another --context',
      );
    }
    return err;
  }

  private async once<T>(method: string, path: string, params: RequestParams): Promise<T> {
    const url = new URL(this.base.href.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(params.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const { tls, headers: authHeaders } = await this.conn.credentials();
    const body = params.body === undefined ? undefined : Buffer.from(JSON.stringify(params.body));
    const headers: Record<string, string> = {
      ...authHeaders,
      Accept: 'application/json',
      'User-Agent': 'kubectl-snapshot',
    };
    if (body) {
      headers['Content-Type'] = params.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const send = url.protocol === 'http:' ? httpRequest : request;
    const started = performance.now();
    return new Promise<T>((resolve, reject) => {
      const req = send(url, { ...tls, method, headers, agent: this.agent as Agent }, (res) => {
        this.answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (this.observers.size > 0) {
            const after = Number(res.headers['retry-after']);
            const answer = {
              method,
              status,
              ms: performance.now() - started,
              ...(Number.isFinite(after) && after > 0 ? { retryAfterMs: after * 1000 } : {}),
            };
            for (const o of this.observers) o(answer);
          }
          if (params.raw && status >= 200 && status < 300)
            return resolve(Buffer.concat(chunks) as T);
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? parseJson(text) : undefined;
          } catch {
            json = undefined;
          }
          if (status >= 200 && status < 300) return resolve(json as T);
          const st: ApiStatus = (json as ApiStatus) ?? { message: text.slice(0, 200) };
          const retryAfter = Number(res.headers['retry-after']);
          if (Number.isFinite(retryAfter) && retryAfter > 0)
            st.details = { ...st.details, retryAfterSeconds: retryAfter };
          reject(new ApiError(status, st, method, path));
        });
      });
      watchTimeouts(req, this.timeouts);
      req.on('error', reject);
      req.end(body);
    });
  }

  get<T = KubeObject>(path: string, query?: RequestParams['query']): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  /** GET that answers undefined for 404. */
  async getOptional<T = KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  /**
   * Server-side apply as field manager `kubectl-snapshot` (PATCH with
   * application/apply-patch+yaml; JSON is YAML), taking over fields other managers set, so
   * re-running a create converges on what it renders. `dryRun` validates without persisting.
   */
  apply<T = KubeObject>(path: string, obj: unknown, opts: { dryRun?: boolean } = {}): Promise<T> {
    return this.request<T>('PATCH', path, {
      query: {
        fieldManager: 'kubectl-snapshot',
        force: true,
        dryRun: opts.dryRun ? 'All' : undefined,
      },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  /** Pages through a list (limit + continue) so memory holds one page at a time. */
  async *listPages(
    path: string,
    query: RequestParams['query'] = {},
    limit = 500,
  ): AsyncGenerator<KubeObject[]> {
    type Page = { items?: KubeObject[]; metadata?: { continue?: string } };
    const fetchPage = (cont: string | undefined) => {
      const p = this.get<Page>(path, { ...query, limit, continue: cont });
      p.catch(() => {}); // awaited below; a consumer that stops early must not leave it unhandled
      return p;
    };
    // The next page is requested before this one is handed out, so the API server prepares
    // it while the consumer works: one page more in memory, no round trip per page.
    let next: Promise<Page> | undefined = fetchPage(undefined);
    while (next) {
      const page: Page = await next;
      const cont = page.metadata?.continue || undefined;
      next = cont ? fetchPage(cont) : undefined;
      yield page.items ?? [];
    }
  }

  /**
   * Pages through a list, handing each page's body unparsed to `decode`, which answers what
   * to yield and the continue token (for decoding off the main thread). The next page is
   * requested once its token is known; callers overlap several lists instead.
   */
  async *listPagesDecoded<T>(
    path: string,
    limit: number,
    decode: (body: Buffer) => Promise<{ page: T; continue?: string }>,
  ): AsyncGenerator<T> {
    let cont: string | undefined;
    do {
      const body = await this.request<Buffer>('GET', path, {
        query: { limit, continue: cont },
        raw: true,
      });
      const decoded = await decode(body);
      cont = decoded.continue || undefined;
      yield decoded.page;
    } while (cont);
  }

  async serverVersion(): Promise<string> {
    const v = await this.get<{ gitVersion?: string }>('/version');
    return v.gitVersion ?? 'unknown';
  }
}
