// The snapshot repository over a real directory store: the claim / write / commit / abort
// protocol, and reading back what it committed.
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  CorruptArchiveError,
  NotFoundError,
  type UserError,
} from '../../src/core/errors.js';
import type { SnapshotManifest } from '../../src/core/types.js';
import { parseSigningKey, parseVerifyKey } from '../../src/crypto/sign.js';
import type { ManifestFields } from '../../src/snapshots/draft.js';
import { SignatureError, SnapshotRepository } from '../../src/snapshots/repository.js';
import { FsStore } from '../../src/storage/fs.js';
import { selection } from './builders.js';

let root: string;
let repo: SnapshotRepository;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ks-repo-'));
  repo = new SnapshotRepository(new FsStore(root));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const fields = (name: string, startedAt = '2026-11-01T00:00:00.000Z'): ManifestFields => ({
  formatVersion: 1,
  name,
  toolVersion: 'test',
  cluster: { server: 'https://example', version: 'v1.35.0' },
  selection: selection(['shop']),
  namespaces: ['shop'],
  startedAt,
  completedAt: startedAt,
  labels: {},
  resources: [],
  totalObjects: 0,
  warnings: [],
});

async function files(): Promise<string[]> {
  const out = await readdir(root, { recursive: true, withFileTypes: true });
  return out
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

async function write(
  name: string,
  archive: Buffer,
  startedAt?: string,
  into = repo,
): Promise<SnapshotManifest> {
  const draft = await into.claim(name, new Date());
  await draft.startArchive(Readable.from([archive]));
  await draft.writeLog([{ msg: 'listed' }]);
  return draft.commit(fields(name, startedAt));
}

describe('snapshot repository', () => {
  it('commits a snapshot whose manifest records the stored bytes, then releases the name lock', async () => {
    const bytes = Buffer.from('not really a tar.gz, the repository does not care');
    const m = await write('web-1', bytes);
    expect(m.archive).toEqual({
      key: 'snapshots/web-1/resources.tar.gz',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      encrypted: false,
    });
    expect(await files()).toEqual([
      'snapshots/web-1/log.jsonl.gz',
      'snapshots/web-1/resources.tar.gz',
      'snapshots/web-1/snapshot.json',
    ]);
    expect(JSON.parse(await readFile(join(root, 'snapshots/web-1/snapshot.json'), 'utf8'))).toEqual(
      m,
    );
    expect(await repo.readManifest('web-1')).toEqual(m);
  });

  it('refuses a second claim of a name while the first is being written, and after it committed', async () => {
    const first = await repo.claim('web-1', new Date());
    await expect(repo.claim('web-1', new Date())).rejects.toBeInstanceOf(AlreadyExistsError);
    await first.startArchive(Readable.from([Buffer.from('x')]));
    await first.commit(fields('web-1'));
    await expect(repo.claim('web-1', new Date())).rejects.toThrow(
      'snapshot "web-1" already exists',
    );
  });

  it('abort removes everything the draft wrote, so the name is free again', async () => {
    const draft = await repo.claim('web-1', new Date());
    await draft.startArchive(Readable.from([Buffer.from('partial')]));
    await draft.writeLog([]);
    expect(await draft.abort()).toBe(true);
    expect(await files()).toEqual([]);
    await expect(repo.readManifest('web-1')).rejects.toBeInstanceOf(NotFoundError);
    await (await repo.claim('web-1', new Date())).abort();
  });

  it('lists committed snapshots oldest first, and not ones still being written', async () => {
    await write('b', Buffer.from('b'), '2026-11-02T00:00:00.000Z');
    await write('a', Buffer.from('a'), '2026-11-03T00:00:00.000Z');
    await repo.claim('in-progress', new Date());
    expect((await repo.list()).snapshots.map((m) => m.name)).toEqual(['b', 'a']);
  });

  it.each([
    ['not JSON', '{"name": "bad"', 'not valid JSON'],
    ['an array', '[]', 'not a JSON object'],
    [
      'a format from the future',
      '__99__',
      'formatVersion 99 was made by a newer kubectl-snapshot; upgrade',
    ],
    ["another snapshot's name", '__other__', 'it names snapshot "other"'],
    ['a non-string startedAt', '__time__', 'field startedAt is missing or wrong'],
    ['a negative count', '__count__', 'field totalObjects is missing or wrong'],
  ])(
    'lists the good snapshots and names one whose snapshot.json is %s',
    async (_, body, problem) => {
      await write('good', Buffer.from('g'));
      const genuine = JSON.parse(
        await readFile(join(root, 'snapshots/good/snapshot.json'), 'utf8'),
      );
      const bodies: Record<string, unknown> = {
        __99__: { ...genuine, name: 'bad', formatVersion: 99 },
        __other__: { ...genuine, name: 'other' },
        __time__: { ...genuine, name: 'bad', startedAt: 5 },
        __count__: { ...genuine, name: 'bad', totalObjects: -1 },
      };
      const text = body in bodies ? JSON.stringify(bodies[body]) : body;
      await new FsStore(root).put('snapshots/bad/snapshot.json', Buffer.from(text));
      const listing = await repo.list();
      expect(listing.snapshots.map((m) => m.name)).toEqual(['good']);
      expect(listing.damaged.map((d) => [d.snapshot, d.message])).toEqual([
        ['bad', expect.stringContaining(`snapshot.json of "bad" is damaged: ${problem}`)],
      ]);
      await expect(repo.readManifest('bad')).rejects.toThrow(problem);
    },
  );

  it('opens an archive whose bytes match snapshot.json, and reports a changed one as corrupt', async () => {
    const m = await write('web-1', Buffer.from('original bytes'));
    const ok = await repo.openArchive(m);
    ok.stream.resume();
    await expect(ok.checkIntegrity()).resolves.toBeUndefined();

    await new FsStore(root).put('snapshots/web-1/resources.tar.gz', Buffer.from('tampered bytes'));
    const bad = await repo.openArchive(m);
    bad.stream.resume();
    await expect(bad.checkIntegrity()).rejects.toBeInstanceOf(CorruptArchiveError);
  });

  it('finds the newest snapshot a schedule made by its name and label', async () => {
    const labelled = async (name: string, schedule: string) => {
      const draft = await repo.claim(name, new Date());
      await draft.startArchive(Readable.from([Buffer.from(name)]));
      await draft.commit({ ...fields(name), labels: { 'kubectl-snapshot/schedule': schedule } });
    };
    await labelled('nightly-20261101-020000', 'nightly');
    await labelled('nightly-20261102-020000', 'nightly');
    await labelled('nightly-20261103-020000', 'other');
    expect((await repo.newestOfSchedule('nightly'))?.name).toBe('nightly-20261102-020000');
    expect(await repo.newestOfSchedule('weekly')).toBeUndefined();
  });

  it('refuses to delete a name a live backup is writing, and deletes it once that process is gone', async () => {
    const draft = await repo.claim('busy', new Date());
    await draft.startArchive(Readable.from([Buffer.from('partial')]));
    await expect(repo.delete('busy')).rejects.toThrow(
      new RegExp(
        `^snapshot "busy" is being written by a backup started at \\S+ on \\S+ \\(pid ${process.pid}\\)$`,
      ),
    );
    const lock = JSON.parse(await readFile(join(root, 'snapshots/busy/.lock'), 'utf8'));
    const ended = spawnSync('true').pid;
    await new FsStore(root).put(
      'snapshots/busy/.lock',
      Buffer.from(JSON.stringify({ ...lock, pid: ended })),
    );
    expect(await repo.delete('busy')).toEqual({ deleted: 2 });
  });

  it('a draft whose name was deleted and claimed again removes nothing of the new backup', async () => {
    const first = await repo.claim('race', new Date());
    await first.startArchive(Readable.from([Buffer.from('first')]));
    while (!(await new FsStore(root).head('snapshots/race/resources.tar.gz')))
      await new Promise((r) => setTimeout(r, 5)); // its upload is done
    // What a forced delete would do: the first backup's lock and files go, a second claims.
    await new FsStore(root).delete('snapshots/race/.lock');
    await new FsStore(root).delete('snapshots/race/resources.tar.gz');
    const second = await repo.claim('race', new Date());
    await second.startArchive(Readable.from([Buffer.from('second')]));
    await expect(first.commit(fields('race'))).rejects.toThrow(
      'snapshot "race" was deleted while this backup wrote it, so it was not completed',
    );
    expect(await first.abort()).toBe(true);
    const m = await second.commit(fields('race'));
    expect(m.archive.size).toBe('second'.length);
    expect(await readFile(join(root, 'snapshots/race/resources.tar.gz'), 'utf8')).toBe('second');
  });

  it('lists names with files but no snapshot.json apart, live or not', async () => {
    await repo.claim('running', new Date());
    await new FsStore(root).createExclusive(
      'snapshots/killed/.lock',
      Buffer.from(
        JSON.stringify({ startedAt: '2026-01-01T00:00:00.000Z', host: 'elsewhere', pid: 1 }),
      ),
    );
    const { incomplete } = await repo.list(new Date('2026-01-01T01:00:00.000Z'));
    expect(incomplete.map((i) => [i.name, i.live])).toEqual([
      ['killed', true],
      ['running', true],
    ]);
    const dayLater = await repo.list(new Date('2026-01-02T01:00:00.000Z'));
    expect(dayLater.incomplete.map((i) => [i.name, i.live])).toEqual([
      ['killed', false],
      ['running', true],
    ]);
  });
});

describe('signed snapshots in the repository', () => {
  const pem = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return {
      signing: parseSigningKey(privateKey.export({ format: 'pem', type: 'pkcs8' }), 'k'),
      verify: parseVerifyKey(publicKey.export({ format: 'pem', type: 'spki' }), 'k.pub'),
    };
  };
  const a = pem();
  const b = pem();
  const bytes = Buffer.from('archive');

  it('signs on commit, reads back with the key, refuses without a good signature', async () => {
    await write('signed', bytes, undefined, repo.signingWith(a.signing));
    await write('unsigned', bytes);
    await write('other', bytes, undefined, repo.signingWith(b.signing));
    expect(await files()).toContain('snapshots/signed/snapshot.json.sig');
    const strict = repo.requiringSignature(a.verify);
    expect((await strict.readManifest('signed')).name).toBe('signed');
    expect(await repo.readSignature('signed')).toMatchObject({
      signature: { keyFingerprint: a.signing.fingerprint },
    });
    await expect(strict.readManifest('unsigned')).rejects.toThrow(SignatureError);
    await expect(strict.readManifest('other')).rejects.toThrow(/signed by another key/);
    const path = join(root, 'snapshots', 'signed', 'snapshot.json');
    const raw = await readFile(path);
    raw[raw.length - 2] = 0x7c; // the closing brace → `|`: the bytes changed
    await writeFile(path, raw);
    await expect(strict.readManifest('signed')).rejects.toThrow(/changed after it was signed/);
    await repo.delete('signed');
    expect(await files()).not.toContain('snapshots/signed/snapshot.json.sig');
  });

  it('a snapshot.json from a newer version asks to upgrade, not to delete the snapshot', async () => {
    await write('future', Buffer.from('f'));
    const file = join(root, 'snapshots/future/snapshot.json');
    const genuine = JSON.parse(await readFile(file, 'utf8'));
    await new FsStore(root).put(
      'snapshots/future/snapshot.json',
      Buffer.from(JSON.stringify({ ...genuine, formatVersion: 2 })),
    );
    const err = (await repo.readManifest('future').catch((e: unknown) => e)) as UserError;
    expect(err.message).toBe(
      'snapshot.json of "future" is damaged: formatVersion 2 was made by a newer kubectl-snapshot; upgrade (this version reads 1)',
    );
    expect(err.hint).toBe(
      'install a newer kubectl-snapshot to read it; the snapshot itself may be fine, keep it',
    );
  });
});
