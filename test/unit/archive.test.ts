// The archive format: our streaming writer, the validating reader, entry names, and
// interoperability with GNU tar. No cluster needed.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { type Header, pack } from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  assertSafeEntryName,
  FORMAT_VERSION,
  objectEntryPath,
  parseObjectEntryPath,
  VERSION_ENTRY,
} from '../../src/archive/format.js';
import { type ArchiveEntry, type ReadOptions, readArchive } from '../../src/archive/reader.js';
import { type ArchiveSummary, ArchiveWriter } from '../../src/archive/writer.js';
import { CorruptArchiveError } from '../../src/core/errors.js';

interface Entry {
  name: string;
  data: Buffer;
}

const VERSION_DATA = Buffer.from(`${FORMAT_VERSION}\n`);

/** Reads a stream to the end. */
async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Writes entries with ArchiveWriter while consuming its output, as an upload would. */
async function writeArchive(entries: Entry[]): Promise<{ bytes: Buffer; summary: ArchiveSummary }> {
  const writer = new ArchiveWriter(new Date('2024-05-06T07:08:09Z'));
  const consumed = drain(writer.output);
  for (const e of entries) await writer.add(e.name, e.data);
  const summary = await writer.finish();
  return { bytes: await consumed, summary };
}

/** Splits bytes into chunks of varying sizes, so the reader sees a real stream. */
function chunked(bytes: Buffer, sizes: number[] = [1, 7, 512, 4096, 65536]): Readable {
  const parts: Buffer[] = [];
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const n = sizes[i++ % sizes.length] as number;
    parts.push(bytes.subarray(at, at + n));
    at += n;
  }
  return Readable.from(parts);
}

async function read(
  bytes: Buffer,
  opts?: ReadOptions,
): Promise<{ entries: ArchiveEntry[]; summary: Awaited<ReturnType<typeof readArchive>> }> {
  const entries: ArchiveEntry[] = [];
  const summary = await readArchive(chunked(bytes), (e) => void entries.push(e), opts);
  return { entries, summary };
}

interface CraftedEntry extends Partial<Header> {
  name: string;
  body?: Buffer | string;
}

/** Builds a gzip'd tar with tar-stream's pack, which writes what our writer never would. */
async function craft(entries: CraftedEntry[]): Promise<Buffer> {
  const p = pack();
  const done = drain(p as unknown as Readable);
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body === undefined) p.entry(header, cb);
      else p.entry(header, body, cb);
    });
  }
  p.finalize();
  return gzipSync(await done);
}

async function expectCorrupt(bytes: Buffer, pattern: RegExp, opts?: ReadOptions): Promise<void> {
  const err = await read(bytes, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CorruptArchiveError);
  expect((err as Error).message).toMatch(pattern);
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

const tempDirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'snapshot-archive-test-'));
  tempDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

// The longest names Kubernetes allows: a 63-character plural in a 253-character group,
// a 63-character namespace and a 253-character object name.
const label = (c: string, n = 63) => c.repeat(n);
const longGroup = `${label('g')}.${label('h')}.${label('i')}.${label('j', 61)}`; // 253 chars
const maxResource = `${label('r')}.${longGroup}`;
const maxName = `${label('n')}.${label('o')}.${label('p')}.${label('q', 61)}`; // 253 chars
const maxNamespace = label('s');

describe('archive entry paths', () => {
  it('round-trips namespaced and cluster-scoped object locations', () => {
    const locs = [
      { resource: 'deployments.apps', namespace: 'web', name: 'frontend' },
      { resource: 'configmaps', namespace: 'kube-system', name: 'a.b-c' },
      { resource: 'clusterroles.rbac.authorization.k8s.io', name: 'system:aggregate-to-view' },
      { resource: 'namespaces', name: 'web' },
      { resource: maxResource, namespace: maxNamespace, name: maxName },
    ];
    for (const loc of locs) {
      const path = objectEntryPath(loc);
      expect(path.startsWith('resources/')).toBe(true);
      expect(parseObjectEntryPath(path)).toEqual(loc);
    }
  });

  it('lays objects out as Velero does', () => {
    expect(objectEntryPath({ resource: 'deployments.apps', namespace: 'web', name: 'x' })).toBe(
      'resources/deployments.apps/namespaces/web/x.json',
    );
    expect(objectEntryPath({ resource: 'namespaces', name: 'web' })).toBe(
      'resources/namespaces/cluster/web.json',
    );
  });

  it('parses entries that are not objects as undefined', () => {
    for (const p of [
      VERSION_ENTRY,
      'metadata/other.json',
      'resources/configmaps/cluster/x.yaml',
      'resources/configmaps/namespaces/web.json',
      'resources/configmaps/namespaces/web/extra/x.json',
      'resources/configmaps/elsewhere/x.json',
      'resources/configmaps/elsewhere/web/x.json',
      'other/configmaps/cluster/x.json',
      '',
    ]) {
      expect(parseObjectEntryPath(p), p).toBeUndefined();
    }
  });

  it('refuses unsafe entry names and accepts ordinary ones', () => {
    for (const bad of [
      '',
      '/etc/passwd',
      '../x',
      'a/../../x',
      'a/..',
      './a',
      'a//b',
      'a/',
      'a\\b',
      'C:/x',
      'a\0b',
    ]) {
      expect(() => assertSafeEntryName(bad), JSON.stringify(bad)).toThrow(CorruptArchiveError);
    }
    for (const ok of [VERSION_ENTRY, 'resources/a/cluster/b.json', 'a..b', '...', '.hidden']) {
      expect(() => assertSafeEntryName(ok), ok).not.toThrow();
    }
  });
});

describe('ArchiveWriter and readArchive', () => {
  it('round-trip many entries exactly and in order, with metadata/version first', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 300; i++) {
      entries.push({
        name: objectEntryPath({
          resource: 'configmaps',
          namespace: `ns-${i % 7}`,
          name: `cm-${i}`,
        }),
        data: Buffer.from(JSON.stringify({ i, text: 'ünïcødé — 日本語 🚀' })),
      });
    }
    // Every byte value, and data sizes around the 512-byte block boundary.
    entries.push({
      name: 'bytes/all',
      data: Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    });
    for (const n of [0, 1, 511, 512, 513, 1024]) {
      entries.push({ name: `bytes/size-${n}`, data: randomBytes(n) });
    }
    // A 1.4 MB object, about the largest etcd accepts.
    entries.push({
      name: 'resources/secrets/namespaces/big/big.json',
      data: randomBytes(1_400_000),
    });

    const { bytes, summary } = await writeArchive(entries);
    const got = await read(bytes);

    expect(got.entries[0]).toEqual({ name: VERSION_ENTRY, data: VERSION_DATA });
    expect(got.entries.slice(1).map((e) => e.name)).toEqual(entries.map((e) => e.name));
    for (const [i, e] of entries.entries()) {
      expect(got.entries[i + 1]?.data.equals(e.data), e.name).toBe(true);
    }
    expect(summary).toEqual({ entries: entries.length + 1, inflatedBytes: expect.any(Number) });
    expect(got.summary).toEqual(summary);
  });

  it('round-trip names longer than 100 bytes up to the longest Kubernetes allows (PAX paths)', async () => {
    const names: string[] = [];
    // Lengths across 100 bytes, and PAX record lengths across digit boundaries.
    for (const n of [99, 100, 101, 102, 150, 255, 256, 500, 990, 991, 992, 993, 994, 995, 1000]) {
      names.push(`long/${'x'.repeat(n - 'long/'.length)}`);
    }
    names.push(objectEntryPath({ resource: maxResource, namespace: maxNamespace, name: maxName }));
    names.push(objectEntryPath({ resource: maxResource, name: maxName }));
    // Multi-byte characters straddling the 100-byte ustar name field.
    names.push(`utf8/${'a'.repeat(94)}日本語/${'é'.repeat(60)}`);
    expect(Buffer.byteLength(names.at(-3) as string)).toBe(661);

    const entries = names.map((name, i) => ({ name, data: Buffer.from(`entry ${i}`) }));
    const { bytes, summary } = await writeArchive(entries);
    const got = await read(bytes);
    expect(got.entries.map((e) => e.name)).toEqual([VERSION_ENTRY, ...names]);
    expect(got.entries.slice(1).map((e) => e.data.toString())).toEqual(
      entries.map((e) => e.data.toString()),
    );
    expect(got.summary).toEqual(summary);
  });

  it('writes an archive with only metadata/version when nothing is added', async () => {
    const { bytes, summary } = await writeArchive([]);
    expect(summary.entries).toBe(1);
    const got = await read(bytes);
    expect(got.entries).toEqual([{ name: VERSION_ENTRY, data: VERSION_DATA }]);
  });

  it('serialises concurrent add() calls without interleaving entries', async () => {
    const writer = new ArchiveWriter();
    const consumed = drain(writer.output);
    const entries = Array.from({ length: 50 }, (_, i) => ({
      name: `c/${i}`,
      data: randomBytes(10_000 + i),
    }));
    await Promise.all(entries.map((e) => writer.add(e.name, e.data)));
    await writer.finish();
    const got = await read(await consumed);
    expect(got.entries.slice(1)).toEqual(entries);
  });

  it('refuses to write an unsafe entry name', () => {
    const writer = new ArchiveWriter();
    expect(() => writer.add('../escape', Buffer.from('x'))).toThrow(CorruptArchiveError);
    expect(() => writer.add('/etc/passwd', Buffer.from('x'))).toThrow(CorruptArchiveError);
    writer.abort(new Error('test over'));
    writer.output.on('error', () => {});
  });

  it('makes archives that GNU tar lists and extracts with the same names and contents', async () => {
    const entries: Entry[] = [
      {
        name: objectEntryPath({ resource: 'deployments.apps', namespace: 'web', name: 'front' }),
        data: Buffer.from('{"kind":"Deployment","x":"ü日本🚀"}'),
      },
      { name: 'resources/namespaces/cluster/web.json', data: Buffer.from('{}') },
      { name: 'bytes/all', data: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
      { name: 'bytes/big', data: randomBytes(300_000) },
      // A long path whose every segment still fits a file system's 255-byte limit.
      {
        name: objectEntryPath({
          resource: `${label('r')}.${label('g')}.${label('h')}.${label('i')}`,
          namespace: maxNamespace,
          name: `${label('n')}.${label('o')}.${label('p')}.${label('q', 58)}`,
        }),
        data: Buffer.from('long'),
      },
    ];
    const longest = objectEntryPath({
      resource: maxResource,
      namespace: maxNamespace,
      name: maxName,
    });
    const { bytes } = await writeArchive([...entries, { name: longest, data: Buffer.from('max') }]);
    const dir = tempDir();
    const file = join(dir, 'a.tar.gz');
    writeFileSync(file, bytes);

    const listed = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).split('\n');
    expect(listed.filter(Boolean)).toEqual([VERSION_ENTRY, ...entries.map((e) => e.name), longest]);

    // Extract all but the longest name: its 317-byte directory and 258-byte file names exceed
    // NAME_MAX (255) on Linux, so no file system can hold it; tar still reads it.
    const out = join(dir, 'out');
    execFileSync('mkdir', [out]);
    execFileSync('tar', ['-xzf', file, '-C', out, '--exclude', longest]);
    expect(readFileSync(join(out, VERSION_ENTRY))).toEqual(VERSION_DATA);
    for (const e of entries)
      expect(readFileSync(join(out, e.name)).equals(e.data), e.name).toBe(true);
    // And GNU tar sees the whole stream as intact, the longest entry included.
    expect(execFileSync('tar', ['-xzOf', file, longest], { encoding: 'utf8' })).toBe('max');
  });

  it('holds back add() when nobody reads output, and resumes once it is consumed', async () => {
    const writer = new ArchiveWriter();
    const chunk = 64 * 1024;
    let added = 0;
    let stalled: Promise<void> | undefined;
    const timeout = (ms: number) =>
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms));
    while (added < 64 * 1024 * 1024) {
      // Random bytes do not compress, so gzip's output fills as fast as its input.
      const p = writer.add(`blob/${added}`, randomBytes(chunk));
      if ((await Promise.race([p.then(() => 'added' as const), timeout(100)])) === 'timeout') {
        stalled = p;
        break;
      }
      added += chunk;
    }
    expect(stalled, 'add() never waited for the consumer').toBeDefined();
    // Bounded by the parallel gzip: a pending block, the blocks compressing and one emitted
    // block waiting for the reader (1 MiB each), far below the 64 MiB offered.
    expect(added).toBeLessThan(8 * 1024 * 1024);

    const consumed = drain(writer.output);
    await expect(Promise.race([stalled, timeout(5000)])).resolves.toBeUndefined();
    await writer.add('after', Buffer.from('resumed'));
    const summary = await writer.finish();
    const got = await read(await consumed);
    expect(got.entries.at(-1)?.data.toString()).toBe('resumed');
    expect(got.summary).toEqual(summary);
  });

  it('on abort, the consumer of output sees the error and finish() rejects', async () => {
    const writer = new ArchiveWriter();
    await writer.add('a', Buffer.from('x'));
    const consumed = drain(writer.output);
    const boom = new Error('listing failed');
    writer.abort(boom);
    const timeout = new Promise((r) => setTimeout(() => r('hung'), 2000));
    await expect(Promise.race([consumed, timeout])).rejects.toBe(boom);
    await expect(writer.finish()).rejects.toBe(boom);
  });
});

describe('readArchive refuses unsafe or damaged archives', () => {
  it('refuses entry names with ..', async () => {
    await expectCorrupt(
      await craft([{ name: '../../etc/cron.d/x', body: 'x' }]),
      /unsafe entry name.*\.\./,
    );
    await expectCorrupt(
      await craft([{ name: 'resources/../../x', body: 'x' }]),
      /unsafe entry name/,
    );
  });

  it('refuses absolute entry names', async () => {
    await expectCorrupt(
      await craft([{ name: '/etc/passwd', body: 'x' }]),
      /unsafe entry name.*\/etc\/passwd/,
    );
  });

  it('refuses entry names with backslashes', async () => {
    await expectCorrupt(await craft([{ name: 'a\\..\\b', body: 'x' }]), /unsafe entry name/);
  });

  it('refuses symlink entries', async () => {
    await expectCorrupt(
      await craft([{ name: 'link', type: 'symlink', linkname: '/etc/passwd' }]),
      /"link" is a symlink, not a regular file/,
    );
  });

  it('refuses hardlink entries', async () => {
    await expectCorrupt(
      await craft([
        { name: 'a', body: 'x' },
        { name: 'b', type: 'link', linkname: 'a' },
      ]),
      /"b" is a link, not a regular file/,
    );
  });

  it('refuses device and fifo entries', async () => {
    await expectCorrupt(await craft([{ name: 'f', type: 'fifo' }]), /"f" is a fifo/);
    await expectCorrupt(
      await craft([{ name: 'd', type: 'character-device', devmajor: 1, devminor: 3 }]),
      /"d" is a character-device/,
    );
  });

  it('tolerates directory entries and skips them', async () => {
    const bytes = await craft([
      { name: 'metadata', type: 'directory' },
      { name: 'metadata/version', body: '1.1.0\n' },
      { name: 'resources/', type: 'directory' },
    ]);
    // tar-stream strips the trailing slash from directory names; a name "resources/" would be unsafe.
    const got = await read(bytes);
    expect(got.entries).toEqual([{ name: 'metadata/version', data: Buffer.from('1.1.0\n') }]);
    expect(got.summary.entries).toBe(1);
  });

  it('refuses an entry larger than maxEntryBytes before reading it', async () => {
    const bytes = await craft([{ name: 'big', body: Buffer.alloc(1001) }]);
    await expectCorrupt(bytes, /"big" is 1001 bytes, over the 1000-byte limit/, {
      maxEntryBytes: 1000,
    });
    await expect(read(bytes, { maxEntryBytes: 1001 })).resolves.toBeDefined();
  });

  it('refuses truncated archives wherever they are cut', async () => {
    const { bytes } = await writeArchive([
      { name: 'a', data: randomBytes(5000) },
      { name: 'b', data: Buffer.from('hello') },
    ]);
    for (const cut of [
      1,
      2,
      9,
      10,
      11,
      100,
      2000,
      bytes.length - 9,
      bytes.length - 8,
      bytes.length - 1,
    ]) {
      await expectCorrupt(bytes.subarray(0, cut), /corrupt or truncated/);
    }
  });

  it('refuses an empty input', async () => {
    await expectCorrupt(Buffer.alloc(0), /empty|corrupt or truncated/);
    const err = await readArchive(Readable.from([]), () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptArchiveError);
  });

  it('refuses random garbage', async () => {
    await expectCorrupt(randomBytes(10_000), /corrupt or truncated/);
    await expectCorrupt(Buffer.from('this is not an archive\n'), /corrupt or truncated/);
  });

  it('refuses gzip of something that is not a tar', async () => {
    await expectCorrupt(gzipSync(Buffer.from('x'.repeat(2000))), /corrupt or truncated/);
  });

  it('detects a flipped byte: the read fails as corrupt, or at least the sha256 changes', async () => {
    const { bytes } = await writeArchive(
      Array.from({ length: 20 }, (_, i) => ({ name: `e/${i}`, data: randomBytes(2000) })),
    );
    for (const at of [
      Math.floor(bytes.length / 3),
      Math.floor(bytes.length / 2),
      bytes.length - 20,
    ]) {
      for (const bit of [0x01, 0x80]) {
        const damaged = Buffer.from(bytes);
        damaged[at] = (damaged[at] as number) ^ bit;
        const result = await read(damaged).catch((e: unknown) => e);
        if (result instanceof Error) expect(result).toBeInstanceOf(CorruptArchiveError);
        else expect(sha256(damaged)).not.toBe(sha256(bytes));
      }
    }
  });

  it('passes an error thrown by the entry callback through unchanged', async () => {
    const { bytes } = await writeArchive([{ name: 'a', data: Buffer.from('x') }]);
    for (const message of ['boom', 'bad tar header in my object', 'unexpected end of data']) {
      const boom = new Error(message);
      const err = await readArchive(chunked(bytes), () => {
        throw boom;
      }).catch((e: unknown) => e);
      expect(err).toBe(boom);
      const asyncErr = await readArchive(chunked(bytes), async () => {
        throw boom;
      }).catch((e: unknown) => e);
      expect(asyncErr).toBe(boom);
    }
  });

  it('passes an error from the input stream through unchanged', async () => {
    const { bytes } = await writeArchive([{ name: 'a', data: randomBytes(100_000) }]);
    const failure = new Error('connection reset');
    const input = new Readable({
      read() {
        this.push(bytes.subarray(0, 1000));
        this.destroy(failure);
      },
    });
    await expect(readArchive(input, () => {})).rejects.toBe(failure);
  });
});

describe('archive properties', () => {
  const segment = fc
    .string({
      unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-._éü日'.split('')),
      minLength: 1,
      maxLength: 90,
    })
    .filter((s) => s !== '.' && s !== '..');
  const safeName = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segs) => segs.join('/'));
  const entriesArb = fc.array(
    fc.record({
      name: safeName,
      data: fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
    }),
    { maxLength: 12 },
  );

  it('round-trips any list of safely named entries exactly', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb, async (entries) => {
        const { bytes, summary } = await writeArchive(entries);
        const got = await read(bytes);
        expect(got.entries).toEqual([{ name: VERSION_ENTRY, data: VERSION_DATA }, ...entries]);
        expect(got.summary).toEqual(summary);
      }),
      { numRuns: 60 },
    );
  });

  /** Reads bytes and classifies the outcome; fails the property on a hang or a foreign error. */
  async function outcome(bytes: Buffer): Promise<'ok' | 'corrupt'> {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((r) => {
      timer = setTimeout(() => r('hung'), 3000);
    });
    try {
      const result = await Promise.race([
        readArchive(chunked(bytes, [1, 100, 3000]), () => {}, { maxEntryBytes: 1 << 20 }).then(
          () => 'ok' as const,
          (e: unknown) => {
            if (e instanceof CorruptArchiveError) return 'corrupt' as const;
            throw e;
          },
        ),
        hung,
      ]);
      if (result === 'hung') throw new Error('readArchive did not settle');
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  it('reading arbitrary bytes settles, either succeeding or with CorruptArchiveError', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ maxLength: 2000 }),
            // Starts like gzip, so the inflater gets further than the magic number.
            fc.uint8Array({ maxLength: 2000 }).map((a) => new Uint8Array([0x1f, 0x8b, 8, 0, ...a])),
            // Valid gzip around arbitrary bytes, so the tar parser sees garbage.
            fc.uint8Array({ maxLength: 4000 }).map((a) => gzipSync(a)),
          ),
          async (a) => {
            await outcome(Buffer.from(a));
          },
        ),
        { numRuns: 150 },
      );
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('reading a mutated valid archive settles, either succeeding or with CorruptArchiveError', async () => {
    const { bytes: valid } = await writeArchive([
      { name: 'resources/configmaps/namespaces/a/b.json', data: Buffer.from('{"a":1}') },
      { name: `long/${'y'.repeat(200)}`, data: randomBytes(3000) },
      { name: 'c', data: Buffer.from('z'.repeat(5000)) },
    ]);
    // The uncompressed tar too, re-gzipped after mutation, so the tar parser meets the damage.
    const tar = (await import('node:zlib')).gunzipSync(valid);
    const mutation = (len: number) =>
      fc.array(
        fc.record({ at: fc.nat({ max: len - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
        {
          minLength: 1,
          maxLength: 4,
        },
      );
    const apply = (src: Buffer, muts: { at: number; value: number }[]) => {
      const out = Buffer.from(src);
      for (const m of muts) out[m.at] = m.value;
      return out;
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      await fc.assert(
        fc.asyncProperty(
          mutation(valid.length),
          fc.nat({ max: valid.length }),
          async (muts, cut) => {
            const damaged = apply(valid, muts);
            const result = await outcome(damaged);
            if (result === 'ok' && !damaged.equals(valid)) {
              // Only bytes gzip does not check (header fields) can change unnoticed; the sha256 still moves.
              expect(sha256(damaged)).not.toBe(sha256(valid));
            }
            await outcome(damaged.subarray(0, cut));
          },
        ),
        { numRuns: 150 },
      );
      await fc.assert(
        fc.asyncProperty(mutation(tar.length), async (muts) => {
          await outcome(gzipSync(apply(tar, muts)));
        }),
        { numRuns: 200 },
      );
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
