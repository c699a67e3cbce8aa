// A server that accepts the connection and then never answers must not hang a command: the
// CLI gives up with one `error:` line naming the endpoint and what timed out (the TCP connect,
// the TLS handshake or the response), exit code 1, within a bound; for the API server and for
// S3. A slow answer whose bytes keep coming is not cut, however long it takes in all.
import { readFileSync } from 'node:fs';
import { connect, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cli, cluster, kubeconfigAt, tempDir, uniqueName } from './helpers.js';
import { expectCleanError } from './storage-kinds.js';

/** Well above each expected wait (2 s or 10 s) plus process start, well below "hangs". */
const BOUND_MS = 20_000;

interface Listening {
  server: Server;
  port: number;
}

/** Listens on a loopback port, remembering its connections so afterAll can end them. */
async function listen(server: Server, sockets: Set<Socket>): Promise<Listening> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

const sockets = new Set<Socket>();
/** Accepts TCP connections and never sends a byte: the TLS handshake never completes. */
let silentTcp: Listening;
/** Completes TLS with the cluster's serving certificate, then never sends an HTTP answer. */
let silentTls: Listening;
/** Passes MinIO's answers on in pieces 400 ms apart: slow in all, never idle for 1 s. */
let slowProxy: Listening;
/** The longest time one chunk from MinIO took to pass through slowProxy. */
let longestChunkMs = 0;

beforeAll(async () => {
  const pki = join(cluster().dir, 'pki');
  silentTcp = await listen(createNetServer(), sockets);
  silentTls = await listen(
    createTlsServer({
      cert: readFileSync(join(pki, 'apiserver.crt')),
      key: readFileSync(join(pki, 'apiserver.key')),
    }),
    sockets,
  );
  silentTls.server.on('tlsClientError', () => {});
  const minio = new URL(cluster().s3.endpoint);
  slowProxy = await listen(
    createNetServer((client) => {
      const upstream = connect(Number(minio.port), minio.hostname);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
      client.pipe(upstream);
      let queue = Promise.resolve();
      upstream.on('data', (chunk: Buffer) => {
        const size = Math.ceil(chunk.length / 6);
        const pieces: Buffer[] = [];
        for (let i = 0; i < chunk.length; i += size) pieces.push(chunk.subarray(i, i + size));
        queue = queue.then(async () => {
          const started = Date.now();
          for (const piece of pieces) {
            await sleep(400);
            if (!client.destroyed) client.write(piece);
          }
          longestChunkMs = Math.max(longestChunkMs, Date.now() - started);
        });
      });
      upstream.on('end', () => queue.then(() => client.end()));
    }),
    sockets,
  );
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(
    [silentTcp, silentTls, slowProxy].map(
      (l) => new Promise((r) => (l ? l.server.close(r) : r(undefined))),
    ),
  );
});

/** An s3:// location on the harness's bucket at `endpoint`, trusting the cluster's CA. */
function s3At(endpoint: string): string {
  const caFile = join(cluster().dir, 'pki', 'ca.crt');
  return `s3://${cluster().s3.bucket}/${uniqueName('timeout')}?endpoint=${endpoint}&region=us-east-1&pathStyle=true&caFile=${caFile}`;
}

/** Runs the CLI, answering its result and how long it took. */
async function timed(args: string[], env?: NodeJS.ProcessEnv) {
  const started = Date.now();
  const r: CliResult = await cli(args, env);
  return { r, ms: Date.now() - started };
}

function expectTimeout(r: CliResult, firstLine: string): void {
  expectCleanError(r, /^error: /);
  expect(r.stderr.split('\n')[0]).toBe(firstLine);
  expect(r.stderr).not.toContain(cluster().s3.secretKey);
}

describe('an API server that never answers', () => {
  it('backup gives up on the TLS handshake after 10 s by default', async () => {
    const { r, ms } = await timed(['backup', 'nope', '-n', 'default', '--storage', tempDir()], {
      KUBECONFIG: kubeconfigAt(`https://127.0.0.1:${silentTcp.port}`),
    });
    expectTimeout(
      r,
      `error: the API server https://127.0.0.1:${silentTcp.port} did not answer within 10s (TLS handshake)`,
    );
    expect(r.stderr).toContain('context "');
    expect(ms).toBeGreaterThanOrEqual(10_000);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('backup gives up on a request that gets no answer after --request-timeout', async () => {
    const { r, ms } = await timed(
      ['backup', 'nope', '-n', 'default', '--storage', tempDir(), '--request-timeout', '2s'],
      { KUBECONFIG: kubeconfigAt(`https://127.0.0.1:${silentTls.port}`) },
    );
    expectTimeout(
      r,
      `error: the API server https://127.0.0.1:${silentTls.port} did not answer within 2s (response)`,
    );
    expect(r.stderr).toContain('--request-timeout');
    expect(ms).toBeLessThan(BOUND_MS);
  });
});

describe('an S3 endpoint that never answers', () => {
  it.each([
    [
      'backup',
      'accepts TCP, then is silent',
      () => `http://127.0.0.1:${silentTcp.port}`,
      ['--request-timeout', '2s'],
      '2s (response)',
    ],
    [
      'list',
      'never completes TLS',
      () => `https://127.0.0.1:${silentTcp.port}`,
      ['--request-timeout=2'],
      '2s (TLS handshake)',
    ],
    [
      'list',
      'completes TLS, then is silent',
      () => `https://127.0.0.1:${silentTls.port}`,
      ['--request-timeout', '1500ms'],
      '1.5s (response)',
    ],
  ])('%s gives up on an endpoint that %s', async (command, _what, endpoint, flags, within) => {
    const args = command === 'backup' ? ['backup', 'nope', '-n', 'default'] : [command];
    const { r, ms } = await timed([...args, ...flags, '--storage', s3At(endpoint())]);
    expectTimeout(r, `error: the S3 endpoint ${endpoint()} did not answer within ${within}`);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('list is not cut off while the answer keeps coming, however slowly', async () => {
    const { r } = await timed([
      'list',
      '--request-timeout',
      '1s',
      '--storage',
      s3At(`http://127.0.0.1:${slowProxy.port}`),
    ]);
    expect(r.stderr).toMatch(/^No snapshots in s3:\/\//);
    expect(r.code).toBe(0);
    // One answer took longer than the limit in all, with no pause as long as it.
    expect(longestChunkMs).toBeGreaterThan(2000);
  });
});
