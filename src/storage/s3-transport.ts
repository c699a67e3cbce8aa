// How S3Store reaches its server: a keep-alive agent that trusts caFile= besides the public
// roots, and requests that time out instead of hanging on an unreachable or silent endpoint.
// Apart from s3.ts so the protocol code does not mix with socket handling.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import { UserError } from '../core/errors.js';
import { type RequestTimeouts, watchTimeouts } from '../core/http-timeouts.js';
import { errorCode } from './s3-errors.js';

export interface TransportOptions {
  useSSL: boolean;
  /** PEM CA bundle trusted in addition to Node's roots. */
  caFile?: string;
  insecureSkipTlsVerify?: boolean;
  timeouts: RequestTimeouts;
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
    transport: timeoutTransport(useSSL ? https : http, opts.timeouts),
  };
}

type RequestFn = typeof http.request;

/** Wraps http(s).request with the connect, TLS and idle timeouts of core/http-timeouts.ts. */
function timeoutTransport(
  mod: { request: RequestFn },
  timeouts: RequestTimeouts,
): Pick<typeof http, 'request'> {
  const request = ((...args: Parameters<RequestFn>) => {
    const req = (mod.request as (...a: unknown[]) => http.ClientRequest)(...args);
    watchTimeouts(req, timeouts);
    return req;
  }) as RequestFn;
  return { request };
}
