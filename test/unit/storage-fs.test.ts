import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError } from '../../src/core/errors.js';
import { SnapshotRepository } from '../../src/snapshots/repository.js';
import { FsStore } from '../../src/storage/fs.js';
import { getBuffer, type ObjectInfo } from '../../src/storage/store.js';

let base: string;
let root: string;
let store: FsStore;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'fsstore-'));
  root = join(base, 'store');
  store = new FsStore(root);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of it) out.push(o);
  return out;
}

/** Every file below `dir`, relative, including hidden temp files. */
async function allFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort();
  } catch {
    return [];
  }
}

function failingStream(afterBytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(afterBytes);
      } else {
        this.destroy(new Error('source broke'));
      }
    },
  });
}

describe('FsStore', () => {
  it('has a file:// url of its absolute root', () => {
    expect(store.url).toBe(`file://${root}`);
  });

  it('round-trips a streamed body through put and get and reports its size', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
    const { size } = await store.put('snapshots/a/resources.tar.gz', Readable.from(chunks));
    expect(size).toBe(500_000);
    const back = await getBuffer(store, 'snapshots/a/resources.tar.gz');
    expect(back.equals(Buffer.concat(chunks))).toBe(true);
  });

  it('round-trips a Buffer body and overwrites an existing object', async () => {
    await store.put('k', Buffer.from('one'));
    await store.put('k', Buffer.from('two'));
    expect((await getBuffer(store, 'k')).toString()).toBe('two');
  });

  it('leaves nothing visible, not even a temp file, when the source stream errors', async () => {
    await expect(store.put('snapshots/a/x.bin', failingStream(Buffer.alloc(1000)))).rejects.toThrow(
      'source broke',
    );
    expect(await store.head('snapshots/a/x.bin')).toBeUndefined();
    expect(await collect(store.list(''))).toEqual([]);
    expect(await allFiles(root)).toEqual([]);
  });

  it('keeps the previous version of an object when overwriting it fails', async () => {
    await store.put('k', Buffer.from('old'));
    await expect(store.put('k', failingStream(Buffer.from('new')))).rejects.toThrow();
    expect((await getBuffer(store, 'k')).toString()).toBe('old');
  });

  it('creates an object exclusively once and refuses the second time, keeping the first body', async () => {
    await store.createExclusive('snapshots/a/.lock', Buffer.from('first'));
    await expect(store.createExclusive('snapshots/a/.lock', Buffer.from('second'))).rejects.toThrow(
      AlreadyExistsError,
    );
    expect((await getBuffer(store, 'snapshots/a/.lock')).toString()).toBe('first');
    expect(await allFiles(root)).toEqual(['snapshots/a/.lock']);
  });

  it('lets exactly one of many concurrent exclusive creates of one key win', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.createExclusive('race', Buffer.from(`w${i}`))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AlreadyExistsError);
    }
    expect(await allFiles(root)).toEqual(['race']);
  });

  it('refuses an exclusive create over an object written by put', async () => {
    await store.put('k', Buffer.from('x'));
    await expect(store.createExclusive('k', Buffer.from('y'))).rejects.toThrow(AlreadyExistsError);
  });

  it('throws NotFoundError naming the key when getting a missing object', async () => {
    await expect(store.get('snapshots/nope/snapshot.json')).rejects.toThrow(NotFoundError);
    await expect(store.get('snapshots/nope/snapshot.json')).rejects.toThrow(
      /snapshots\/nope\/snapshot\.json/,
    );
  });

  it('treats a directory as a missing object', async () => {
    await store.put('dir/file', Buffer.from('x'));
    await expect(store.get('dir')).rejects.toThrow(NotFoundError);
    expect(await store.head('dir')).toBeUndefined();
  });

  it('heads an object with its size and modification time, and undefined when missing', async () => {
    await store.put('a/b', Buffer.from('12345'));
    const info = await store.head('a/b');
    expect(info?.key).toBe('a/b');
    expect(info?.size).toBe(5);
    expect(info?.lastModified).toBeInstanceOf(Date);
    expect(await store.head('a/c')).toBeUndefined();
    expect(await store.head('a/b/c')).toBeUndefined();
  });

  it('lists keys under a prefix recursively, sorted, with / separators', async () => {
    for (const k of [
      'snapshots/b/x',
      'snapshots/a/z',
      'snapshots/a/sub/y',
      'snapshots/ab/x',
      'other',
    ]) {
      await store.put(k, Buffer.from(k));
    }
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

  it('lists nothing, without error, when the root does not exist yet', async () => {
    expect(await collect(new FsStore(join(base, 'absent')).list(''))).toEqual([]);
  });

  it('skips temporary files of writes in progress when listing', async () => {
    await store.put('snapshots/a/real', Buffer.from('x'));
    await writeFile(join(root, 'snapshots/a/.tmp-0123456789abcdef-real'), 'partial');
    expect((await collect(store.list(''))).map((o) => o.key)).toEqual(['snapshots/a/real']);
  });

  it('deletes objects, ignores missing ones and prunes empty directories up to the root', async () => {
    await store.put('snapshots/a/x', Buffer.from('x'));
    await store.put('snapshots/b/y', Buffer.from('y'));
    await store.delete('snapshots/a/x');
    await store.delete('snapshots/a/x');
    await store.delete('never/existed');
    expect(await readdir(join(root, 'snapshots'))).toEqual(['b']);
    await store.delete('snapshots/b/y');
    expect(await readdir(root)).toEqual([]);
  });

  it('rejects keys that could escape the root', async () => {
    for (const bad of ['../escape', 'a/../../b', '/etc/passwd', '', 'a//b', 'a/.']) {
      await expect(store.put(bad, Buffer.from('x')), bad).rejects.toThrow(/invalid storage key/);
      await expect(store.get(bad)).rejects.toThrow(/invalid storage key/);
      await expect(store.delete(bad)).rejects.toThrow(/invalid storage key/);
    }
    await expect(collect(store.list('../'))).rejects.toThrow(/invalid storage key/);
    expect(await allFiles(base)).toEqual([]);
  });

  it('creates files 0600 and directories 0700 because backups hold Secrets', async () => {
    await store.put('snapshots/a/resources.tar.gz', Readable.from([Buffer.from('secret')]));
    await store.createExclusive('snapshots/a/snapshot.json', Buffer.from('{}'));
    const mode = async (p: string) => (await stat(join(root, p))).mode & 0o777;
    expect(await mode('snapshots/a/resources.tar.gz')).toBe(0o600);
    expect(await mode('snapshots/a/snapshot.json')).toBe(0o600);
    expect(await mode('snapshots/a')).toBe(0o700);
    expect(await mode('snapshots')).toBe(0o700);
    expect(await mode('')).toBe(0o700);
  });

  it('stores objects as plain files under the root', async () => {
    await store.put('snapshots/a/snapshot.json', Buffer.from('{"a":1}'));
    expect(await readFile(join(root, 'snapshots/a/snapshot.json'), 'utf8')).toBe('{"a":1}');
  });
});

describe('FsStore.removeIncomplete and deleting a snapshot a killed backup left behind', () => {
  it('removes the temporary files of one key, not those of other keys, then the empty directories', async () => {
    const dir = join(root, 'snapshots', 'killed');
    await store.createExclusive('snapshots/killed/.lock', Buffer.from('{}'));
    // What a backup killed in the middle of writing its archive leaves: a temporary file.
    await writeFile(join(dir, '.tmp-0123456789abcdef-resources.tar.gz'), 'partial');
    await writeFile(join(dir, '.tmp-fedcba9876543210-log.jsonl.gz'), 'partial');
    expect(await collect(store.list('snapshots/'))).toHaveLength(1); // only the lock is listed

    expect(await store.removeIncomplete('snapshots/killed/resources.tar.gz')).toBe(1);
    expect(await allFiles(root)).toEqual([
      'snapshots/killed/.lock',
      'snapshots/killed/.tmp-fedcba9876543210-log.jsonl.gz',
    ]);
    expect(await store.removeIncomplete('snapshots/killed/resources.tar.gz')).toBe(0);
    expect(await store.removeIncomplete('snapshots/never/resources.tar.gz')).toBe(0);
  });

  it('delete removes the lock and the temporary files, leaving nothing of the snapshot', async () => {
    const snapshots = new SnapshotRepository(store);
    const dir = join(root, 'snapshots', 'killed');
    await store.createExclusive('snapshots/killed/.lock', Buffer.from('{}'));
    await writeFile(join(dir, '.tmp-0123456789abcdef-resources.tar.gz'), 'partial');
    expect(await snapshots.delete('killed')).toEqual({ deleted: 2 });
    expect(await allFiles(root)).toEqual([]);
    await expect(stat(join(root, 'snapshots', 'killed'))).rejects.toThrow();
  });

  it('delete finds a snapshot that is only a temporary file, and still refuses an unknown name', async () => {
    const snapshots = new SnapshotRepository(store);
    const dir = join(root, 'snapshots', 'orphan');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '.tmp-0123456789abcdef-resources.tar.gz'), 'partial');
    expect(await snapshots.delete('orphan')).toEqual({ deleted: 1 });
    expect(await allFiles(root)).toEqual([]);
    await expect(snapshots.delete('orphan')).rejects.toBeInstanceOf(NotFoundError);
  });
});
