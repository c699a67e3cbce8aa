// Timeouts of one HTTP request over node:http(s), for the API client (kube/client.ts) and the
// S3 transport (storage/s3-transport.ts). Connecting (DNS + TCP) and the TLS handshake get
// CONNECT_TIMEOUT_MS each, like kubectl's TLS handshake timeout. After that a request fails
// when no byte moves for `idleMs` (--request-timeout) while it is sent, answered or read: the
// clock restarts on every chunk, so a large upload, download or LIST page takes as long as it
// needs while bytes flow, and it does not run while our own reader holds a body back.
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { UserError } from './errors.js';

/** kubectl's TLS handshake timeout, used for the TCP connect too. */
export const CONNECT_TIMEOUT_MS = 10_000;
/**
 * --request-timeout's default. kubectl has no overall limit by default; this one is per
 * silence, not per request, and matches the API server's own limit for a request (60 s).
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

export type TimeoutPhase = 'connect' | 'TLS handshake' | 'response';

export interface RequestTimeouts {
  /** Each of the TCP connect and the TLS handshake. */
  connectMs: number;
  /** No byte sent or received for this long; 0: no limit. */
  idleMs: number;
}

/** The limits for an idle timeout (0: none); connecting never waits longer than it either. */
export function requestTimeouts(idleMs = DEFAULT_IDLE_TIMEOUT_MS): RequestTimeouts {
  return {
    connectMs: idleMs > 0 ? Math.min(CONNECT_TIMEOUT_MS, idleMs) : CONNECT_TIMEOUT_MS,
    idleMs,
  };
}

/** `10s`, `1.5s`, `300ms`. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A request given up by watchTimeouts: what it waited for and how long. */
export class RequestTimeoutError extends Error {
  readonly code = 'ERR_REQUEST_TIMEOUT';
  constructor(
    readonly phase: TimeoutPhase,
    readonly ms: number,
  ) {
    super(`no answer within ${formatMs(ms)} (${phase})`);
    this.name = 'RequestTimeoutError';
  }
}

/**
 * What a user reads about a timeout: `${server} did not answer within 10s (TLS handshake)`.
 * `server` names the endpoint without credentials; `check` says where its address comes from.
 */
export function explainTimeout(err: RequestTimeoutError, server: string, check: string): UserError {
  const hint =
    err.phase === 'response'
      ? `it took the request but sent nothing for ${formatMs(err.ms)}; if it is only slow, allow longer with --request-timeout (0: no limit)`
      : `${check}; ${
          err.phase === 'connect'
            ? 'nothing accepted the connection in time (a firewall may drop it)'
            : 'something accepts connections there but does not complete a TLS handshake'
        }`;
  return new UserError(`${server} did not answer within ${formatMs(err.ms)} (${err.phase})`, hint);
}

/** Makes `req` fail with a RequestTimeoutError when it waits longer than `limits` allow. */
export function watchTimeouts(req: ClientRequest, limits: RequestTimeouts): void {
  let res: IncomingMessage | undefined;
  req.once('response', (r: IncomingMessage) => {
    res = r;
  });
  const fail = (phase: TimeoutPhase, ms: number) => {
    const err = new RequestTimeoutError(phase, ms);
    // Once the headers are in, the body's reader has to learn why the body ends.
    if (res) res.destroy(err);
    else req.destroy(err);
  };
  req.once('socket', (socket: Socket) => {
    let timer: NodeJS.Timeout | undefined;
    let heldBefore = false;
    const onIdle = () => {
      if (res?.complete) return; // all of it arrived; the rest is our reader's pace
      // Paused, or bytes waiting unread: our reader holds the body back, so the silence is
      // ours; wait again. A window that began while it held the body is not the server's
      // silence either (it just resumed reading what was waiting): one more window.
      const held = socket.isPaused() || (res?.readableLength ?? 0) > 0;
      if (held || heldBefore) {
        heldBefore = held;
        socket.setTimeout(limits.idleMs);
      } else fail('response', limits.idleMs);
    };
    const idle = () => {
      clearTimeout(timer);
      if (limits.idleMs <= 0) return;
      // The socket's own inactivity timer: reading and writing both restart it.
      socket.setTimeout(limits.idleMs);
      socket.on('timeout', onIdle);
    };
    const waitFor = (phase: TimeoutPhase) => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(phase, limits.connectMs), limits.connectMs);
    };
    // Before the agent keeps the socket for the next request (which resets its timeout).
    req.once('close', () => {
      clearTimeout(timer);
      socket.off('timeout', onIdle);
    });
    if (!socket.connecting) return idle(); // a kept-alive socket, connected and secured
    const tls = socket instanceof TLSSocket;
    waitFor('connect');
    socket.once('connect', () => (tls ? waitFor('TLS handshake') : idle()));
    if (tls) socket.once('secureConnect', idle);
  });
}
