// ObjectStore on S3: MinIO, AWS S3 and other S3-compatible servers, through the minio client.
// Loaded lazily (see locations.ts openStore) so commands that never touch S3 do not pay for it.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Client, type ClientOptions } from 'minio';
import { AlreadyExistsError, NotFoundError, UserError } from '../core/errors.js';
import { assertValidKey } from './layout.js';
import { DEFAULT_S3_ENDPOINT, formatS3Url, type S3Location } from './locations.js';
import type { ObjectInfo, ObjectStore } from './store.js';

export interface S3Credentials {
  accessKey: string;
  secretKey: string;
  sessionToken?: string;
}

/**
 * Where to connect (the fields of an s3:// location; `prefix` may also end in '/', the
 * endpoint defaults to AWS, path-style to true for custom endpoints) and how.
 */
export interface S3StoreOptions extends Omit<S3Location, 'kind'> {
  credentials: S3Credentials;
  /** Bytes per multipart part (at least 5 MiB); default 16 MiB. */
  partSize?: number;
  /** Give up connecting (DNS + TCP + TLS) after this long; default 15 s. */
  connectTimeoutMs?: number;
  /** Abort a request whose socket is idle this long before the response arrives; default 5 min. */
  idleTimeoutMs?: number;
}

const MiB = 1024 * 1024;
const DEFAULT_PART_SIZE = 16 * MiB;
const MIN_PART_SIZE = 5 * MiB;
const MAX_PART_SIZE = 5 * 1024 * MiB;
const MAX_PARTS = 10_000;
/** Parts uploaded concurrently while the next one is read. */
const PART_CONCURRENCY = 2;

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EPIPE',
  'ECONNABORTED',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);
const CREDENTIAL_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'InvalidClientTokenId',
  'XMinioInvalidAccessKeyId',
]);
const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchObject']);

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/** The most specific error code on an error, its AggregateError parts or its cause. */
function errorCode(err: unknown): string | undefined {
  const e = err as ErrorLike | undefined;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = errorCode(inner);
      if (c) return c;
    }
  }
  if (e.cause && e.cause !== err) return errorCode(e.cause);
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Failures worth another try: the server was busy or the connection broke. */
const TRANSIENT = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'XMinioServerNotInitialized',
]);
/** Failures that prove the request was not applied, so even a conditional write may repeat. */
const NOT_APPLIED = new Set([
  'ECONNREFUSED',
  'SlowDown',
  'ServiceUnavailable',
  'XMinioServerNotInitialized',
]);
const ATTEMPTS = 5;

/**
 * Runs an S3 call with bounded exponential backoff and full jitter (at most ~6 s in all), for
 * the errors in `retryOn`. Calls must be idempotent for those errors.
 */
async function withRetry<T>(fn: () => Promise<T>, retryOn: Set<string> = TRANSIENT): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt + 1 >= ATTEMPTS || !retryOn.has(errorCode(err) ?? '')) throw err;
      await sleep(Math.random() * Math.min(200 * 2 ** attempt, 3000));
    }
  }
}

export class S3Store implements ObjectStore {
  readonly url: string;
  readonly bucket: string;
  /** '' or ending in '/'. */
  readonly prefix: string;
  readonly endpoint: string;
  private readonly client: Client;
  private readonly partSize: number;
  private readonly caFile: string | undefined;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    const trimmed = opts.prefix.replace(/^\/+|\/+$/g, '');
    if (trimmed !== '') assertValidKey(trimmed);
    this.prefix = trimmed === '' ? '' : `${trimmed}/`;
    this.caFile = opts.caFile;

    let endpoint: URL;
    try {
      endpoint = new URL(opts.endpoint ?? DEFAULT_S3_ENDPOINT);
    } catch {
      throw new UserError(
        `invalid S3 endpoint "${opts.endpoint}"`,
        'use a URL such as https://s3.example.com or http://127.0.0.1:9000',
      );
    }
    if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') {
      throw new UserError(
        `invalid S3 endpoint "${opts.endpoint}": only http:// and https:// are supported`,
      );
    }
    this.endpoint = endpoint.origin;
    this.url = formatS3Url({ ...opts, endpoint: endpoint.origin, prefix: trimmed });
    const useSSL = endpoint.protocol === 'https:';
    const isAws = /(^|\.)amazonaws\.com(\.cn)?$/.test(endpoint.hostname);

    const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
    if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
      throw new Error(`S3 part size must be between 5 MiB and 5 GiB, got ${partSize}`);
    }
    this.partSize = partSize;

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

    const clientOpts: ClientOptions = {
      endPoint: endpoint.hostname.replace(/^\[|\]$/g, ''),
      useSSL,
      accessKey: opts.credentials.accessKey,
      secretKey: opts.credentials.secretKey,
      pathStyle: opts.pathStyle ?? !isAws,
      transportAgent: agent,
      transport: timeoutTransport(
        useSSL ? https : http,
        opts.connectTimeoutMs ?? 15_000,
        opts.idleTimeoutMs ?? 5 * 60_000,
      ),
      // Retries of 5xx responses print to the console; the caller reports failures instead.
      retryOptions: { disableRetry: true },
    };
    if (endpoint.port !== '') clientOpts.port = Number(endpoint.port);
    if (opts.region) clientOpts.region = opts.region;
    if (opts.credentials.sessionToken) clientOpts.sessionToken = opts.credentials.sessionToken;
    this.client = new Client(clientOpts);
  }

  async put(key: string, body: Readable | Buffer): Promise<{ size: number }> {
    const name = this.objectName(key);
    try {
      if (Buffer.isBuffer(body)) {
        await withRetry(() => this.client.putObject(this.bucket, name, body, body.length));
        return { size: body.length };
      }
      return await this.putStream(name, body);
    } catch (err) {
      if (!Buffer.isBuffer(body) && !body.destroyed) body.destroy();
      throw this.mapError(err, key);
    }
  }

  async createExclusive(key: string, body: Buffer): Promise<void> {
    const name = this.objectName(key);
    for (let attempt = 0; ; attempt++) {
      try {
        // A write whose answer was lost may have happened: retry only what surely did not.
        await withRetry(
          () =>
            this.client.putObject(this.bucket, name, body, body.length, { 'If-None-Match': '*' }),
          NOT_APPLIED,
        );
        return;
      } catch (err) {
        const code = errorCode(err);
        if (code === 'PreconditionFailed' || code === 'XMinioPreconditionFailed') {
          throw new AlreadyExistsError(`${this.url} object "${key}"`);
        }
        // AWS answers 409 to a conditional write racing another one; retrying resolves it.
        if (code === 'ConditionalRequestConflict' && attempt < 5) {
          await sleep(50 * 2 ** attempt);
          continue;
        }
        throw this.mapError(err, key);
      }
    }
  }

  async get(key: string): Promise<Readable> {
    const name = this.objectName(key);
    try {
      return await withRetry(() => this.client.getObject(this.bucket, name));
    } catch (err) {
      if (NOT_FOUND_CODES.has(errorCode(err) ?? '')) {
        throw new NotFoundError(`${this.url} object "${key}"`);
      }
      throw this.mapError(err, key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const name = this.objectName(key);
    try {
      const st = await withRetry(() => this.client.statObject(this.bucket, name));
      return { key, size: st.size, lastModified: st.lastModified };
    } catch (err) {
      if (NOT_FOUND_CODES.has(errorCode(err) ?? '')) return undefined;
      throw this.mapError(err, key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidKey(prefix, true);
    const stream = this.client.listObjectsV2(this.bucket, this.prefix + prefix, true);
    try {
      for await (const item of stream as AsyncIterable<{
        name?: string;
        size: number;
        lastModified?: Date;
      }>) {
        if (item.name === undefined || !item.name.startsWith(this.prefix)) continue;
        yield {
          key: item.name.slice(this.prefix.length),
          size: item.size,
          lastModified: item.lastModified ?? new Date(0),
        };
      }
    } catch (err) {
      throw this.mapError(err, prefix);
    } finally {
      stream.destroy();
    }
  }

  async delete(key: string): Promise<void> {
    const name = this.objectName(key);
    try {
      await withRetry(() => this.client.removeObject(this.bucket, name));
    } catch (err) {
      if (NOT_FOUND_CODES.has(errorCode(err) ?? '')) return;
      throw this.mapError(err, key);
    }
  }

  /**
   * Aborts every incomplete multipart upload of `key`. A backup aborts its own upload when it
   * fails, but not when the failure is the storage itself going away (the abort cannot reach
   * it either): then the uploaded parts stay, invisible to list, until someone aborts them.
   * Asked for by exact key: MinIO lists incomplete uploads only for an object name, not for a
   * prefix.
   */
  async removeIncomplete(key: string): Promise<number> {
    const name = this.objectName(key);
    let removed = 0;
    try {
      let keyMarker = '';
      let uploadIdMarker = '';
      for (;;) {
        const page = await withRetry(() =>
          this.client.listIncompleteUploadsQuery(this.bucket, name, keyMarker, uploadIdMarker, ''),
        );
        for (const u of page.uploads) {
          if (u.key !== name) continue; // a longer key with this one as its prefix
          await withRetry(() => this.client.abortMultipartUpload(this.bucket, name, u.uploadId));
          removed++;
        }
        if (!page.isTruncated) return removed;
        keyMarker = page.nextKeyMarker;
        uploadIdMarker = page.nextUploadIdMarker;
      }
    } catch (err) {
      if (NOT_FOUND_CODES.has(errorCode(err) ?? '') || errorCode(err) === 'NoSuchUpload')
        return removed;
      throw this.mapError(err, key);
    }
  }

  private objectName(key: string): string {
    assertValidKey(key);
    return this.prefix + key;
  }

  /**
   * Streams of unknown length: one PUT when the body fits in a part, otherwise a multipart
   * upload (at most PART_CONCURRENCY parts in memory at once), aborted on any failure so
   * nothing becomes visible unless the whole body arrived.
   */
  private async putStream(name: string, body: Readable): Promise<{ size: number }> {
    const iterator = body[Symbol.asyncIterator]();
    let partSize = this.partSize;
    let size = 0;
    let done = false;

    const readPart = async (): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      let n = 0;
      while (n < partSize) {
        const r = await iterator.next();
        if (r.done) {
          done = true;
          break;
        }
        const chunk: Buffer = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
        chunks.push(chunk);
        n += chunk.length;
      }
      size += n;
      return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, n);
    };

    const first = await readPart();
    if (done) {
      await withRetry(() => this.client.putObject(this.bucket, name, first, first.length));
      return { size };
    }

    const uploadId = await withRetry(() =>
      this.client.initiateNewMultipartUpload(this.bucket, name, {}),
    );
    const inFlight = new Set<Promise<void>>();
    try {
      const etags: { part: number; etag: string }[] = [];
      let failure: { err: unknown } | undefined;
      const upload = (part: number, data: Buffer) => {
        // A part is a buffer: uploading it again replaces it, so every part may retry.
        const p = withRetry(() =>
          this.client.uploadPart(
            {
              bucketName: this.bucket,
              objectName: name,
              uploadID: uploadId,
              partNumber: part,
              headers: {},
            },
            data,
          ),
        )
          .then((r) => {
            etags.push({ part, etag: r.etag });
          })
          .catch((err: unknown) => {
            failure ??= { err };
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      };

      let part = 1;
      upload(part, first);
      while (!done) {
        while (inFlight.size >= PART_CONCURRENCY) await Promise.race(inFlight);
        if (failure) throw failure.err;
        // Grow parts over time so streams of unknown length fit in 10,000 parts.
        if (part % 1000 === 0) partSize = Math.min(partSize * 2, MAX_PART_SIZE);
        const data = await readPart();
        if (data.length === 0) break;
        part++;
        if (part > MAX_PARTS) throw new Error(`object too large for ${MAX_PARTS} S3 parts`);
        upload(part, data);
      }
      await Promise.all(inFlight);
      if (failure) throw failure.err;
      etags.sort((a, b) => a.part - b.part);
      await this.client.completeMultipartUpload(this.bucket, name, uploadId, etags);
      return { size };
    } catch (err) {
      await Promise.allSettled(inFlight);
      await this.client.abortMultipartUpload(this.bucket, name, uploadId).catch(() => {});
      throw err;
    }
  }

  /** Errors a user can fix become UserErrors; never includes credentials. */
  private mapError(err: unknown, key: string): Error {
    if (err instanceof UserError) return err;
    const code = errorCode(err) ?? '';
    if (CONNECTION_CODES.has(code)) {
      return new UserError(
        `cannot reach the S3 endpoint ${this.endpoint} (${code})`,
        'check the endpoint in the storage URL (s3://bucket/prefix?endpoint=https://host:port), ' +
          'that the server is running and reachable from here (DNS, firewall, proxy, VPN)',
      );
    }
    if (TLS_CODES.has(code)) {
      return new UserError(
        `TLS verification of the S3 endpoint ${this.endpoint} failed (${code})`,
        this.caFile
          ? `check that ${this.caFile} holds the CA that signed the server certificate and that the endpoint host name matches it`
          : 'if the server uses a private CA, add caFile=/path/to/ca.pem to the storage URL ' +
              '(insecureSkipTlsVerify=true turns verification off, which is not recommended); ' +
              'also check http:// vs https:// in the endpoint',
      );
    }
    if (CREDENTIAL_CODES.has(code)) {
      return new UserError(
        `the S3 server at ${this.endpoint} refused the credentials for bucket "${this.bucket}" (${code})`,
        code === 'AccessDenied'
          ? 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the AWS_PROFILE in the credentials file) ' +
              `and that this key may read and write s3://${this.bucket}`
          : 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN ' +
              '(or the AWS_PROFILE in the shared credentials file), and the region',
      );
    }
    if (code === 'NoSuchBucket') {
      return new UserError(
        `the S3 bucket "${this.bucket}" does not exist at ${this.endpoint}`,
        'check the bucket name (and region), or create the bucket first (e.g. `mc mb` or `aws s3 mb`)',
      );
    }
    if (code === 'InvalidBucketNameError' || (err as Error)?.name === 'InvalidBucketNameError') {
      return new UserError(`invalid S3 bucket name "${this.bucket}"`);
    }
    if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed') {
      return new UserError(
        `the S3 bucket "${this.bucket}" is in another region (${code})`,
        'set region= in the storage URL to the bucket region',
      );
    }
    const message = err instanceof Error ? err.message : String(err);
    return new Error(
      `S3 request for "${key}" in ${this.url} failed${code ? ` (${code})` : ''}: ${message}`,
      { cause: err },
    );
  }
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
): NonNullable<ClientOptions['transport']> {
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

/**
 * S3 credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), else from
 * the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile
 * AWS_PROFILE or "default"). Never from the command line. `fileReader` returns a file's text,
 * or undefined when it does not exist.
 */
export function s3CredentialsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  fileReader: (path: string) => string | undefined = readIfExists,
): S3Credentials {
  const accessKey = env.AWS_ACCESS_KEY_ID?.trim();
  const secretKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  const sessionToken = env.AWS_SESSION_TOKEN?.trim() || undefined;
  if (accessKey && secretKey) {
    return sessionToken ? { accessKey, secretKey, sessionToken } : { accessKey, secretKey };
  }
  if (accessKey || secretKey) {
    throw new UserError(
      `${accessKey ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'} is not set (only ${accessKey ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'} is)`,
      'set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or unset both to use the shared credentials file',
    );
  }

  const home = env.HOME || homedir();
  const file = env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials');
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';
  const text = fileReader(file);
  const missingHint =
    'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials) ' +
    `in the environment, or put aws_access_key_id and aws_secret_access_key in the [${profile}] ` +
    `section of ${file} (AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE choose the file and the profile); ` +
    'credentials are never accepted on the command line';
  if (text === undefined) {
    throw new UserError('no S3 credentials found', missingHint);
  }
  const section = parseIni(text)[profile];
  if (!section) {
    throw new UserError(`no profile "${profile}" in the S3 credentials file ${file}`, missingHint);
  }
  const fileAccess = section.aws_access_key_id;
  const fileSecret = section.aws_secret_access_key;
  if (!fileAccess || !fileSecret) {
    throw new UserError(
      `profile "${profile}" in ${file} lacks ${fileAccess ? 'aws_secret_access_key' : 'aws_access_key_id'}`,
      missingHint,
    );
  }
  const fileToken = section.aws_session_token || undefined;
  return fileToken
    ? { accessKey: fileAccess, secretKey: fileSecret, sessionToken: fileToken }
    : { accessKey: fileAccess, secretKey: fileSecret };
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new UserError(
      `cannot read the S3 credentials file ${path} (${code ?? String(err)})`,
      'check its permissions, or set AWS_SHARED_CREDENTIALS_FILE',
    );
  }
}

/** A minimal INI parser for AWS credential files: `[section]`, `key = value`, # and ; comments. */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      const name = header[1] as string;
      current = out[name] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || !current) continue;
    current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return out;
}
