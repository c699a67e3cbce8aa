// watchTimeouts against real sockets on loopback: the idle limit counts the server's silence,
// not a response's length, and not the time our own reader holds a body back.
import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestTimeoutError, watchTimeouts } from '../../src/core/http-timeouts.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** A server answering every request with `handler`; answers its port. */
async function serve(handler: (res: ServerResponse) => Promise<void>): Promise<number> {
  server = createServer((_req, res) => {
    handler(res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** GETs / with an idle limit of `idleMs`, answering the response (body unread). */
function get(port: number, idleMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/' }, resolve);
    watchTimeouts(req, { connectMs: 1000, idleMs });
    req.on('error', reject);
    req.end();
  });
}

async function bodyLength(res: IncomingMessage, pauseMs = 0): Promise<number> {
  let n = 0;
  for await (const chunk of res) {
    n += (chunk as Buffer).length;
    if (pauseMs && n === (chunk as Buffer).length) await sleep(pauseMs);
  }
  return n;
}

describe('watchTimeouts', () => {
  it('lets a slow body through while its chunks keep coming', async () => {
    const port = await serve(async (res) => {
      res.writeHead(200);
      for (let i = 0; i < 8; i++) {
        res.write('x'.repeat(100));
        await sleep(100);
      }
      res.end();
    });
    const started = Date.now();
    expect(await bodyLength(await get(port, 300))).toBe(800);
    expect(Date.now() - started).toBeGreaterThan(600);
  });

  it('does not count the time our reader holds the body back', async () => {
    const size = 8 * 1024 * 1024; // more than the socket and stream buffers hold
    const port = await serve(async (res) => {
      res.writeHead(200);
      res.end(Buffer.alloc(size));
    });
    expect(await bodyLength(await get(port, 200), 800)).toBe(size);
  });

  it('fails a body that stops coming, and its reader sees why', async () => {
    const port = await serve(async (res) => {
      res.writeHead(200);
      res.write('partial');
      await sleep(5000);
      res.end();
    });
    const err = await bodyLength(await get(port, 200)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect((err as RequestTimeoutError).phase).toBe('response');
    expect((err as RequestTimeoutError).message).toBe('no answer within 200ms (response)');
  });

  it('0 means no idle limit', async () => {
    const port = await serve(async (res) => {
      await sleep(400);
      res.end('late');
    });
    expect(await bodyLength(await get(port, 0))).toBe(4);
  });
});
