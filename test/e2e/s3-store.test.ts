// S3Store against the real MinIO of the test harness: the same behaviours the unit tests check
// on FsStore, plus conditional-create races and the errors users see.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import { describe, expect, inject, it } from 'vitest';
import { AlreadyExistsError, NotFoundError, UserError } from '../../src/core/errors.js';
import { openStore, resolveLocation } from '../../src/storage/locations.js';
import { S3Store, type S3StoreOptions } from '../../src/storage/s3.js';
import { getBuffer, type ObjectInfo } from '../../src/storage/store.js';

const { s3 } = inject('cluster');
const MiB = 1024 * 1024;

let counter = 0;
function uniquePrefix(): string {
  counter++;
  return `s3-store-test/${process.pid}-${Date.now().toString(36)}-${counter}`;
}

function makeStore(over: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    bucket: s3.bucket,
    prefix: uniquePrefix(),
    endpoint: s3.endpoint,
    region: 'us-east-1',
    credentials: { accessKey: s3.accessKey, secretKey: s3.secretKey },
    ...over,
  });
}

function rawClient(): Client {
  const u = new URL(s3.endpoint);
  return new Client({
    endPoint: u.hostname,
    port: Number(u.port),
    useSSL: false,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    region: 'us-east-1',
  });
}

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of it) out.push(o);
  return out;
}

async function incompleteUploads(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const u of rawClient().listIncompleteUploads(
    s3.bucket,
    prefix,
    true,
  ) as AsyncIterable<{
    key: string;
  }>) {
    keys.push(u.key);
  }
  return keys;
}

/** Emits `bytes` of data in 64 KiB chunks, then fails. */
function failingStream(bytes: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) {
        this.destroy(new Error('source broke'));
        return;
      }
      const n = Math.min(64 * 1024, bytes - sent);
      sent += n;
      this.push(randomBytes(n));
    },
  });
}

async function userErrorOf(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  const u = err as UserError;
  expect(`${u.message} ${u.hint}`).not.toContain(s3.secretKey);
  return u;
}

describe('S3Store on MinIO', () => {
  it('shows an s3:// url with the endpoint and without credentials', () => {
    const store = makeStore();
    expect(store.url).toMatch(new RegExp(`^s3://${s3.bucket}/s3-store-test/.+\\?endpoint=`));
    expect(store.url).not.toContain(s3.accessKey);
    expect(store.url).not.toContain(s3.secretKey);
  });

  it('round-trips a small streamed body through put and get and reports its size', async () => {
    const store = makeStore();
    const body = Buffer.from('{"hello":"world"}');
    expect(await store.put('snapshots/a/snapshot.json', Readable.from([body]))).toEqual({
      size: body.length,
    });
    expect((await getBuffer(store, 'snapshots/a/snapshot.json')).equals(body)).toBe(true);
  });

  it('round-trips an empty body', async () => {
    const store = makeStore();
    expect(await store.put('empty', Readable.from([]))).toEqual({ size: 0 });
    expect((await getBuffer(store, 'empty')).length).toBe(0);
  });

  it('uploads a large stream of unknown length in parts and reads it back intact', async () => {
    const store = makeStore({ partSize: 5 * MiB });
    const data = randomBytes(12 * MiB + 12345);
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; i += 100_000) chunks.push(data.subarray(i, i + 100_000));
    expect(await store.put('big.bin', Readable.from(chunks))).toEqual({ size: data.length });
    expect((await store.head('big.bin'))?.size).toBe(data.length);
    expect((await getBuffer(store, 'big.bin')).equals(data)).toBe(true);
  });

  it('overwrites an object with put', async () => {
    const store = makeStore();
    await store.put('k', Buffer.from('one'));
    await store.put('k', Buffer.from('two'));
    expect((await getBuffer(store, 'k')).toString()).toBe('two');
  });

  it('leaves nothing visible when a small source stream errors', async () => {
    const store = makeStore();
    await expect(store.put('x', failingStream(1000))).rejects.toThrow('source broke');
    expect(await store.head('x')).toBeUndefined();
  });

  it('leaves no object and no incomplete upload when a multipart source stream errors', async () => {
    const store = makeStore({ partSize: 5 * MiB });
    await expect(store.put('big.bin', failingStream(11 * MiB))).rejects.toThrow('source broke');
    expect(await store.head('big.bin')).toBeUndefined();
    expect(await incompleteUploads(store.prefix)).toEqual([]);
  });

  it('creates an object exclusively once and refuses the second time, keeping the first body', async () => {
    const store = makeStore();
    await store.createExclusive('snapshots/a/.lock', Buffer.from('first'));
    await expect(
      store.createExclusive('snapshots/a/.lock', Buffer.from('second')),
    ).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await getBuffer(store, 'snapshots/a/.lock')).toString()).toBe('first');
  });

  it('lets exactly one of two concurrent exclusive creates of one key win', async () => {
    for (let round = 0; round < 5; round++) {
      const store = makeStore();
      const results = await Promise.allSettled([
        store.createExclusive('race', Buffer.from('a')),
        store.createExclusive('race', Buffer.from('b')),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected');
      expect(lost?.reason).toBeInstanceOf(AlreadyExistsError);
    }
  });

  it('lets exactly one of many concurrent exclusive creates win', async () => {
    const store = makeStore();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.createExclusive('race', Buffer.from(`w${i}`))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AlreadyExistsError);
    }
  });

  it('refuses an exclusive create over an object written by put', async () => {
    const store = makeStore();
    await store.put('k', Buffer.from('x'));
    await expect(store.createExclusive('k', Buffer.from('y'))).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
  });

  it('throws NotFoundError naming the key when getting a missing object', async () => {
    const store = makeStore();
    await expect(store.get('snapshots/nope/snapshot.json')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.get('snapshots/nope/snapshot.json')).rejects.toThrow(
      /snapshots\/nope\/snapshot\.json/,
    );
  });

  it('heads an object with its size and modification time, and undefined when missing', async () => {
    const store = makeStore();
    await store.put('a/b', Buffer.from('12345'));
    const info = await store.head('a/b');
    expect(info?.key).toBe('a/b');
    expect(info?.size).toBe(5);
    expect(info?.lastModified).toBeInstanceOf(Date);
    expect(await store.head('a/c')).toBeUndefined();
  });

  it('lists keys under a prefix recursively and sorted, relative to the store prefix', async () => {
    const store = makeStore();
    for (const k of [
      'snapshots/b/x',
      'snapshots/a/z',
      'snapshots/a/sub/y',
      'snapshots/ab/x',
      'other',
    ]) {
      await store.put(k, Buffer.from(k));
    }
    // Another store's objects, under a sibling prefix, must not show up.
    await makeStore({ prefix: `${store.prefix.replace(/\/$/, '')}x` }).put(
      'snapshots/a/zz',
      Buffer.from('no'),
    );
    const keys = async (p: string) => (await collect(store.list(p))).map((o) => o.key);
    expect(await keys('snapshots/')).toEqual([
      'snapshots/a/sub/y',
      'snapshots/a/z',
      'snapshots/ab/x',
      'snapshots/b/x',
    ]);
    expect(await keys('snapshots/a/')).toEqual(['snapshots/a/sub/y', 'snapshots/a/z']);
    expect(await keys('snapshots/a')).toEqual([
      'snapshots/a/sub/y',
      'snapshots/a/z',
      'snapshots/ab/x',
    ]);
    expect(await keys('')).toHaveLength(5);
    expect(await keys('nothing/')).toEqual([]);
    const [first] = await collect(store.list('snapshots/b/'));
    expect(first?.size).toBe('snapshots/b/x'.length);
  });

  it('deletes objects and ignores missing ones', async () => {
    const store = makeStore();
    await store.put('a/x', Buffer.from('x'));
    await store.delete('a/x');
    await store.delete('a/x');
    await store.delete('never/existed');
    expect(await store.head('a/x')).toBeUndefined();
  });

  it('rejects keys that could escape the prefix', async () => {
    const store = makeStore();
    for (const bad of ['../escape', 'a/../../b', '/abs', '', 'a//b']) {
      await expect(store.put(bad, Buffer.from('x')), bad).rejects.toThrow(/invalid storage key/);
      await expect(store.get(bad)).rejects.toThrow(/invalid storage key/);
    }
  });

  it('works without a configured region, asking the server for the bucket region', async () => {
    const store = makeStore({ region: undefined });
    await store.put('k', Buffer.from('v'));
    expect((await getBuffer(store, 'k')).toString()).toBe('v');
  });

  it('reports a wrong secret key as a credentials problem without showing the secret', async () => {
    const store = makeStore({
      credentials: { accessKey: s3.accessKey, secretKey: `${s3.secretKey}-wrong` },
    });
    const ops = [
      () => store.get('k'),
      () => store.put('k', Buffer.from('x')),
      () => collect(store.list('')),
      () => store.createExclusive('k', Buffer.from('x')),
      () => store.delete('k'),
    ];
    for (const op of ops) {
      const err = await userErrorOf(op());
      expect(err.message).toMatch(/refused the credentials.*SignatureDoesNotMatch/);
      expect(err.hint).toContain('AWS_SECRET_ACCESS_KEY');
      expect(`${err.message} ${err.hint}`).not.toContain(`${s3.secretKey}-wrong`);
    }
    // HEAD responses have no body, so the server's code is not known; still a credentials error.
    const err = await userErrorOf(store.head('k'));
    expect(err.message).toMatch(/refused the credentials/);
  });

  it('reports an unknown access key as a credentials problem', async () => {
    const store = makeStore({ credentials: { accessKey: 'nobody', secretKey: 'nothing-here' } });
    const err = await userErrorOf(store.get('k'));
    expect(err.message).toMatch(/refused the credentials.*InvalidAccessKeyId/);
  });

  it('reports a missing bucket by name', async () => {
    const store = makeStore({ bucket: 'no-such-bucket-here' });
    const err = await userErrorOf(store.put('k', Buffer.from('x')));
    expect(err.message).toBe(
      `the S3 bucket "no-such-bucket-here" does not exist at ${new URL(s3.endpoint).origin}`,
    );
    await userErrorOf(collect(store.list('')));
  });

  it('reports an unreachable endpoint with what to check', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const store = makeStore({ endpoint: `http://127.0.0.1:${port}` });
    const err = await userErrorOf(store.put('k', Buffer.from('x')));
    expect(err.message).toBe(
      `cannot reach the S3 endpoint http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect(err.hint).toMatch(/endpoint/);
  });

  it('opens the store from a storage URL with credentials from the environment', async () => {
    const prefix = uniquePrefix();
    const url = `s3://${s3.bucket}/${prefix}?endpoint=${s3.endpoint}&region=us-east-1`;
    const env = { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey };
    const resolved = await resolveLocation(url, {
      ...env,
      KUBECTL_SNAPSHOT_CONFIG: '/nonexistent',
    });
    const store = await openStore(resolved, env);
    await store.put('hello', Buffer.from('world'));
    expect((await getBuffer(store, 'hello')).toString()).toBe('world');
    expect(store.url).toBe(url);
    expect((await collect(store.list(''))).map((o) => o.key)).toEqual(['hello']);
  });
});
