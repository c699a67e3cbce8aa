// Snapshots as stored objects: list, read, delete and verify. A snapshot exists exactly
// when its snapshot.json does.

import type { Readable } from 'node:stream';
import { parseObjectEntryPath, VERSION_ENTRY } from '../archive/format.js';
import { readArchive } from '../archive/reader.js';
import { CorruptArchiveError, errorMessage, NotFoundError, UserError } from '../core/errors.js';
import { HashCounter } from '../core/hash.js';
import { validateSnapshotName } from '../core/names.js';
import type { SnapshotManifest } from '../core/types.js';
import { type DecryptionKey, decryptStream } from '../crypto/age.js';
import {
  archiveKey,
  lockKey,
  logKey,
  manifestKey,
  parseKey,
  snapshotPrefix,
} from '../storage/layout.js';
import { getBuffer, type ObjectStore } from '../storage/store.js';

export const NO_KEY: DecryptionKey = { identities: [], passphrases: [] };

export interface OpenedArchive {
  /** The gzip'd tar, decrypted when the snapshot is encrypted. */
  stream: Readable;
  /**
   * Call after reading `stream` to the end: reads any rest and compares the stored bytes
   * with the size and sha256 in snapshot.json; a mismatch is a CorruptArchiveError.
   */
  checkIntegrity(): Promise<void>;
}

/** Opens a snapshot's archive for reading, hashing the stored bytes on the way. */
export async function openArchive(
  store: ObjectStore,
  m: SnapshotManifest,
  key: DecryptionKey = NO_KEY,
): Promise<OpenedArchive> {
  const raw = await store.get(m.archive.key);
  const stored = new HashCounter();
  raw.on('error', (err) => stored.destroy(err));
  raw.pipe(stored);
  const stream = m.archive.encrypted
    ? await decryptStream(stored, key, `snapshot "${m.name}"`)
    : stored;
  return {
    stream,
    checkIntegrity: async () => {
      if (!stored.readableEnded) {
        await new Promise<void>((resolve, reject) => {
          stored.on('end', resolve).on('error', reject);
          stored.resume();
        });
      }
      if (stored.sha256 !== m.archive.sha256 || stored.size !== m.archive.size) {
        throw new CorruptArchiveError(
          `archive of snapshot "${m.name}" is corrupt: it does not match its snapshot.json (sha256 ${stored.sha256}, expected ${m.archive.sha256}; ${stored.size} bytes, expected ${m.archive.size})`,
        );
      }
    },
  };
}

export async function listSnapshots(store: ObjectStore): Promise<SnapshotManifest[]> {
  const names: string[] = [];
  for await (const o of store.list('snapshots/')) {
    const k = parseKey(o.key);
    if (k && o.key === manifestKey(k.name)) names.push(k.name);
  }
  const out: SnapshotManifest[] = [];
  for (const name of names) {
    try {
      out.push(await readManifest(store, name));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err; // deleted meanwhile
    }
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.name.localeCompare(b.name));
}

export async function readManifest(store: ObjectStore, name: string): Promise<SnapshotManifest> {
  validateSnapshotName(name);
  let raw: Buffer;
  try {
    raw = await getBuffer(store, manifestKey(name));
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new NotFoundError(
        `snapshot "${name}" in ${store.url}`,
        'list the snapshots there with: kubectl snapshot list',
      );
    }
    throw err;
  }
  try {
    const m = JSON.parse(raw.toString('utf8')) as SnapshotManifest;
    if (m.name !== name || typeof m.archive?.sha256 !== 'string')
      throw new Error('fields missing or wrong');
    return m;
  } catch (err) {
    throw new UserError(
      `snapshot.json of "${name}" is damaged: ${errorMessage(err)}`,
      'delete the snapshot or restore it from a copy',
    );
  }
}

/** Removes snapshot.json first, so the snapshot disappears at once, then the rest. */
export async function deleteSnapshot(
  store: ObjectStore,
  name: string,
): Promise<{ deleted: number }> {
  validateSnapshotName(name);
  const keys: string[] = [];
  for await (const o of store.list(snapshotPrefix(name))) keys.push(o.key);
  const manifest = manifestKey(name);
  if (keys.includes(manifest)) await store.delete(manifest);
  for (const k of keys) if (k !== manifest) await store.delete(k);
  // A backup that lost its storage mid-upload (or was killed) cannot clean up after itself:
  // an incomplete S3 multipart upload or a temporary file stays behind, invisible to list.
  // Remove those too, so `delete` leaves nothing of the name (see docs/security.md).
  let incomplete = 0;
  if (store.removeIncomplete) {
    for (const k of [archiveKey(name), logKey(name), manifest, lockKey(name)])
      incomplete += await store.removeIncomplete(k);
  }
  if (keys.length + incomplete === 0) {
    throw new NotFoundError(
      `snapshot "${name}" in ${store.url}`,
      'list the snapshots there with: kubectl snapshot list',
    );
  }
  return { deleted: keys.length + incomplete };
}

export interface VerifyResult {
  name: string;
  ok: boolean;
  entries: number;
  objects: number;
  /** False for an encrypted snapshot verified without its key: only stored bytes checked. */
  contentsChecked: boolean;
  problems: string[];
}

/**
 * Re-reads the archive: size and sha256 of the stored bytes as recorded, and (when readable)
 * every object parses and the counts match snapshot.json.
 */
export async function verifySnapshot(
  store: ObjectStore,
  name: string,
  key: DecryptionKey = NO_KEY,
): Promise<VerifyResult> {
  const m = await readManifest(store, name);
  const problems: string[] = [];
  const result = (contentsChecked: boolean, entries = 0, objects = 0): VerifyResult => ({
    name,
    ok: problems.length === 0,
    entries,
    objects,
    contentsChecked,
    problems,
  });
  const corrupt = (err: unknown) => {
    if (!(err instanceof CorruptArchiveError)) throw err;
    problems.push(err.message);
  };
  const hasKey = key.identities.length > 0 || key.passphrases.length > 0;
  if (m.archive.encrypted && !hasKey) {
    const raw = await openArchive(store, { ...m, archive: { ...m.archive, encrypted: false } });
    raw.stream.resume();
    await raw.checkIntegrity().catch(corrupt);
    return result(false);
  }
  const counts = new Map<string, number>();
  let objects = 0;
  let sawVersion = false;
  const archive = await openArchive(store, m, key);
  let entries = 0;
  try {
    ({ entries } = await readArchive(archive.stream, ({ name: entry, data }) => {
      if (entry === VERSION_ENTRY) {
        sawVersion = true;
        return;
      }
      const loc = parseObjectEntryPath(entry);
      if (!loc) {
        problems.push(`unexpected entry ${entry}`);
        return;
      }
      try {
        const obj = JSON.parse(data.toString('utf8')) as { metadata?: { name?: string } };
        if (obj.metadata?.name !== loc.name)
          problems.push(`${entry}: metadata.name does not match the path`);
      } catch (err) {
        problems.push(`${entry}: not valid JSON (${errorMessage(err)})`);
      }
      objects++;
      counts.set(loc.resource, (counts.get(loc.resource) ?? 0) + 1);
    }));
  } catch (err) {
    corrupt(err);
    return result(true, entries, objects);
  }
  await archive.checkIntegrity().catch(corrupt);
  if (!sawVersion) problems.push(`missing ${VERSION_ENTRY}`);
  for (const r of m.resources) {
    const got = counts.get(r.resource) ?? 0;
    if (got !== r.count)
      problems.push(`${r.resource}: snapshot.json says ${r.count} objects, archive has ${got}`);
  }
  if (objects !== m.totalObjects)
    problems.push(`snapshot.json says ${m.totalObjects} objects, archive has ${objects}`);
  return result(true, entries, objects);
}
