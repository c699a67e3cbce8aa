// How S3 failures are told apart: the error codes of minio, Node and S3 servers, which of them
// are worth a retry, and which become a UserError that says what to fix.
import { UserError } from '../core/errors.js';
import { explainTimeout, RequestTimeoutError } from '../core/http-timeouts.js';
import { sleep } from '../core/time.js';

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
export function errorCode(err: unknown): string | undefined {
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

/** The server says the object does not exist. */
export function isNotFound(err: unknown): boolean {
  return NOT_FOUND_CODES.has(errorCode(err) ?? '');
}

/**
 * Failures worth another try: the server was busy or the connection broke. Not our own
 * timeouts (RequestTimeoutError): retrying a silent server would multiply the wait.
 */
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
export const NOT_APPLIED = new Set([
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
export async function withRetry<T>(
  fn: () => Promise<T>,
  retryOn: Set<string> = TRANSIENT,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt + 1 >= ATTEMPTS || !retryOn.has(errorCode(err) ?? '')) throw err;
      await sleep(Math.random() * Math.min(200 * 2 ** attempt, 3000));
    }
  }
}

/** What an error message names about the store; never its credentials. */
export interface S3StoreIdentity {
  readonly url: string;
  readonly bucket: string;
  readonly endpoint: string;
  readonly caFile: string | undefined;
}

/** Errors a user can fix become UserErrors; never includes credentials. */
export function mapS3Error(err: unknown, key: string, store: S3StoreIdentity): Error {
  if (err instanceof UserError) return err;
  if (err instanceof RequestTimeoutError) {
    return explainTimeout(
      err,
      `the S3 endpoint ${store.endpoint}`,
      'check the endpoint in the storage URL (s3://bucket/prefix?endpoint=https://host:port)',
    );
  }
  const code = errorCode(err) ?? '';
  if (CONNECTION_CODES.has(code)) {
    return new UserError(
      `cannot reach the S3 endpoint ${store.endpoint} (${code})`,
      'check the endpoint in the storage URL (s3://bucket/prefix?endpoint=https://host:port), ' +
        'that the server is running and reachable from here (DNS, firewall, proxy, VPN)',
    );
  }
  if (TLS_CODES.has(code)) {
    return new UserError(
      `TLS verification of the S3 endpoint ${store.endpoint} failed (${code})`,
      store.caFile
        ? `check that ${store.caFile} holds the CA that signed the server certificate and that the endpoint host name matches it`
        : 'if the server uses a private CA, add caFile=/path/to/ca.pem to the storage URL ' +
            '(insecureSkipTlsVerify=true turns verification off, which is not recommended); ' +
            'also check http:// vs https:// in the endpoint',
    );
  }
  if (CREDENTIAL_CODES.has(code)) {
    return new UserError(
      `the S3 server at ${store.endpoint} refused the credentials for bucket "${store.bucket}" (${code})`,
      code === 'AccessDenied'
        ? 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the AWS_PROFILE in the credentials file) ' +
            `and that this key may read and write s3://${store.bucket}`
        : 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN ' +
            '(or the AWS_PROFILE in the shared credentials file), and the region',
    );
  }
  if (code === 'NoSuchBucket') {
    return new UserError(
      `the S3 bucket "${store.bucket}" does not exist at ${store.endpoint}`,
      'check the bucket name (and region), or create the bucket first (e.g. `mc mb` or `aws s3 mb`)',
    );
  }
  if (code === 'InvalidBucketNameError' || (err as Error)?.name === 'InvalidBucketNameError') {
    return new UserError(`invalid S3 bucket name "${store.bucket}"`);
  }
  if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed') {
    return new UserError(
      `the S3 bucket "${store.bucket}" is in another region (${code})`,
      'set region= in the storage URL to the bucket region',
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new Error(
    `S3 request for "${key}" in ${store.url} failed${code ? ` (${code})` : ''}: ${message}`,
    { cause: err },
  );
}
