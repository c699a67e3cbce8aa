// S3Store's transport behaviour against real sockets on loopback: unreachable endpoints,
// timeouts and TLS verification. The S3 protocol itself is tested end to end against MinIO
// (test/e2e/s3-store.test.ts); the servers here only answer 404 to everything.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { S3Store, type S3StoreOptions } from '../../src/storage/s3.js';
import { userError } from './user-error.js';

// A self-signed certificate for 127.0.0.1 and localhost, valid 2020-2120.
const CERT = `-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIBATAKBggqhkjOPQQDAjAgMR4wHAYDVQQDDBVrdWJlY3Rs
LXNuYXBzaG90IHRlc3QwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBa
MCAxHjAcBgNVBAMMFWt1YmVjdGwtc25hcHNob3QgdGVzdDBZMBMGByqGSM49AgEG
CCqGSM49AwEHA0IABN5WtLU8zDdvrmRyGnMFbAA+NKtX2rOuKTIJjR9oJ3kYmtaZ
aLlHXj9V9/7BZfLvSRq1SX5lB7hMMRKgFkQngp2jTjBMMBoGA1UdEQQTMBGHBH8A
AAGCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTADAQH/MB0GA1UdDgQWBBQPUBwHg7SE
ywdeUh+CNCOwP8M7RzAKBggqhkjOPQQDAgNIADBFAiEA3pD5yxiLF1royqGMNfsI
F3tr8l0GEiQPYuwFAnvTofECIHNgLyegizlVMcZT2X5U7e1NfWrrDdRLjYDpbl8X
6Vjn
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXO23SIFLVEGT+hy2
n9Kk5bG/BGX3fFymHtcQaLYd6juhRANCAATeVrS1PMw3b65kchpzBWwAPjSrV9qz
rikyCY0faCd5GJrWmWi5R14/Vff+wWXy70katUl+ZQe4TDESoBZEJ4Kd
-----END PRIVATE KEY-----
`;

const SECRET = 'TopSecret-do-not-print';

function store(endpoint: string, extra: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    bucket: 'bkt',
    prefix: 'p',
    endpoint,
    region: 'us-east-1',
    credentials: { accessKey: 'AKIAEXAMPLE', secretKey: SECRET },
    ...extra,
  });
}

async function userErrorOf(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  const u = err as UserError;
  expect(`${u.message} ${u.hint}`).not.toContain(SECRET);
  return u;
}

let dir: string;
let caFile: string;
let tls: HttpsServer;
let tlsPort: number;
let silent: NetServer;
let silentPort: number;
let closedPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3-transport-'));
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, CERT);
  tls = createHttpsServer({ cert: CERT, key: KEY }, (_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  tlsPort = (tls.address() as { port: number }).port;
  // Accepts connections and never answers.
  silent = createNetServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
  // A port that was free a moment ago: nothing listens there.
  const probe = createNetServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
});

afterAll(async () => {
  tls.closeAllConnections();
  await new Promise((r) => tls.close(r));
  await new Promise((r) => {
    silent.close(r);
    // Connections left open by the timeout test.
    setTimeout(r, 50);
  });
  await rm(dir, { recursive: true, force: true });
});

describe('S3Store transport', () => {
  it('shows an s3:// url with the endpoint and never the credentials', () => {
    const s = store('http://127.0.0.1:9000');
    expect(s.url).toBe('s3://bkt/p?endpoint=http://127.0.0.1:9000&region=us-east-1');
    expect(s.url).not.toContain('AKIAEXAMPLE');
    expect(
      new S3Store({ bucket: 'b01', prefix: '', credentials: { accessKey: 'a', secretKey: 'b' } })
        .url,
    ).toBe('s3://b01');
  });

  it('rejects the endpoints a storage URL rejects, never echoing credentials in one', () => {
    for (const e of ['ftp://host', 'host:9000', 'https://host/path', 'not a url']) {
      expect(() => store(e), e).toThrow(UserError);
    }
    const err = userError(() => store(`https://AKIAEXAMPLE:${SECRET}@127.0.0.1:9000`));
    expect(`${err.message} ${err.hint}`).not.toContain(SECRET);
  });

  it('reports a refused connection as an unreachable endpoint with what to check', async () => {
    const err = await userErrorOf(store(`http://127.0.0.1:${closedPort}`).head('k'));
    expect(err.message).toBe(
      `cannot reach the S3 endpoint http://127.0.0.1:${closedPort} (ECONNREFUSED)`,
    );
    expect(err.hint).toMatch(/endpoint/);
  });

  it('gives up on a server that accepts but never answers', async () => {
    const s = store(`http://127.0.0.1:${silentPort}`, { idleTimeoutMs: 300 });
    const started = Date.now();
    const err = await userErrorOf(s.get('k'));
    expect(err.message).toBe(
      `the S3 endpoint http://127.0.0.1:${silentPort} did not answer within 300ms (response)`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('verifies TLS by default and explains how to trust a private CA', async () => {
    const err = await userErrorOf(store(`https://127.0.0.1:${tlsPort}`).head('k'));
    expect(err.message).toMatch(
      /TLS verification of the S3 endpoint https:\/\/127\.0\.0\.1:\d+ failed/,
    );
    expect(err.hint).toContain('caFile=');
  });

  it('trusts a server certificate signed by the CA in caFile', async () => {
    // The server answers 404 to everything, so a verified connection reads as "no such object".
    expect(await store(`https://127.0.0.1:${tlsPort}`, { caFile }).head('k')).toBeUndefined();
    expect(await store(`https://localhost:${tlsPort}`, { caFile }).head('k')).toBeUndefined();
  });

  it('connects without verification only when insecureSkipTlsVerify is set', async () => {
    const s = store(`https://127.0.0.1:${tlsPort}`, { insecureSkipTlsVerify: true });
    expect(await s.head('k')).toBeUndefined();
  });

  it('reports an unreadable caFile as a UserError naming it', () => {
    expect(() => store('https://127.0.0.1:1', { caFile: join(dir, 'missing.pem') })).toThrow(
      /cannot read the CA file .*missing\.pem/,
    );
  });

  it('rejects keys that could escape the prefix', async () => {
    const s = store(`http://127.0.0.1:${closedPort}`);
    await expect(s.head('../other')).rejects.toThrow(/invalid storage key/);
    await expect(s.put('/abs', Buffer.from('x'))).rejects.toThrow(/invalid storage key/);
  });
});
