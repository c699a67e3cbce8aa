// How S3Store reaches its server: a keep-alive agent that trusts caFile= besides the public
// roots, and requests that time out instead of hanging on an unreachable endpoint. Apart from
// s3.ts so the protocol code does not mix with socket handling.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import { UserError } from '../core/errors.js';
import { errorCode } from './s3-errors.js';

export interface TransportOptions {
  useSSL: boolean;
  /** PEM CA bundle trusted in addition to Node's roots. */
  caFile?: string;
  insecureSkipTlsVerify?: boolean;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

/** The transport fields of the minio client options (named as there, to spread them in). */
export interface S3Transport {
  transportAgent: http.Agent;
  transport: Pick<typeof http, 'request'>;
}

export function s3Transport(opts: TransportOptions): S3Transport {
  const { useSSL } = opts;
  let agent: http.Agent;
  if (useSSL) {
    let ca: string[] | undefined;
    if (opts.caFile) {
      let pem: string;
      try {
        pem = readFileSync(opts.caFile, 'utf8');
      } catch (err) {
        throw new UserError(
          `cannot read the CA file ${opts.caFile}: ${errorCode(err) ?? String(err)}`,
          'caFile= in the storage URL must name a readable PEM file',
        );
      }
      // `ca` replaces Node's bundled roots; keep them so public endpoints still verify.
      ca = [...rootCertificates, pem];
    }
    agent = new https.Agent({
      keepAlive: true,
      rejectUnauthorized: opts.insecureSkipTlsVerify !== true,
      ...(ca ? { ca } : {}),
    });
  } else {
    agent = new http.Agent({ keepAlive: true });
  }
  return {
    transportAgent: agent,
    transport: timeoutTransport(useSSL ? https : http, opts.connectTimeoutMs, opts.idleTimeoutMs),
  };
}

type RequestFn = typeof http.request;

/**
 * Wraps http(s).request with a connect timeout and an idle timeout that lasts until the
 * response headers arrive (after that the reader sets the pace: a slow consumer of a download
 * must not be cut off). Without these an unreachable endpoint can hang for minutes.
 */
function timeoutTransport(
  mod: { request: RequestFn },
  connectTimeoutMs: number,
  idleTimeoutMs: number,
): Pick<typeof http, 'request'> {
  const request = ((...args: Parameters<RequestFn>) => {
    const req = (mod.request as (...a: unknown[]) => http.ClientRequest)(...args);
    const fail = (what: string) => {
      const err = Object.assign(new Error(`${what} timed out`), { code: 'ETIMEDOUT' });
      req.destroy(err);
    };
    req.setTimeout(idleTimeoutMs, () => fail('S3 request'));
    req.once('response', () => req.setTimeout(0));
    req.once('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => fail('connecting to the S3 endpoint'), connectTimeoutMs);
      const clear = () => clearTimeout(timer);
      socket.once('connect', clear);
      socket.once('close', clear);
      req.once('close', clear);
    });
    return req;
  }) as RequestFn;
  return { request };
}
