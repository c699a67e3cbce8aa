// Snapshots as stored objects: list, read, delete and verify. A snapshot exists exactly
// when its snapshot.json does.

import { parseObjectEntryPath, VERSION_ENTRY } from '../archive/format.js';
import { readArchive } from '../archive/reader.js';
import { CorruptArchiveError, errorMessage, NotFoundError, UserError } from '../core/errors.js';
import { validateSnapshotName } from '../core/names.js';
import type { SnapshotManifest } from '../core/types.js';
import { manifestKey, parseKey, snapshotPrefix } from '../storage/layout.js';
import { getBuffer, type ObjectStore } from '../storage/store.js';

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
  if (keys.length === 0) {
    throw new NotFoundError(
      `snapshot "${name}" in ${store.url}`,
      'list the snapshots there with: kubectl snapshot list',
    );
  }
  const manifest = manifestKey(name);
  if (keys.includes(manifest)) await store.delete(manifest);
  for (const k of keys) if (k !== manifest) await store.delete(k);
  return { deleted: keys.length };
}

export interface VerifyResult {
  name: string;
  ok: boolean;
  entries: number;
  objects: number;
  problems: string[];
}

/** Re-reads the archive: size and sha256 as recorded, every object parses, counts match. */
export async function verifySnapshot(store: ObjectStore, name: string): Promise<VerifyResult> {
  const m = await readManifest(store, name);
  const problems: string[] = [];
  const counts = new Map<string, number>();
  let objects = 0;
  let sawVersion = false;
  let summary: { size: number; sha256: string; entries: number } | undefined;
  try {
    summary = await readArchive(await store.get(m.archive.key), ({ name: entry, data }) => {
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
    });
  } catch (err) {
    if (!(err instanceof CorruptArchiveError)) throw err;
    problems.push(err.message);
  }
  if (summary) {
    if (summary.sha256 !== m.archive.sha256)
      problems.push(`sha256 mismatch: recorded ${m.archive.sha256}, read ${summary.sha256}`);
    if (summary.size !== m.archive.size)
      problems.push(`size mismatch: recorded ${m.archive.size}, read ${summary.size}`);
    if (!sawVersion) problems.push(`missing ${VERSION_ENTRY}`);
    for (const r of m.resources) {
      const got = counts.get(r.resource) ?? 0;
      if (got !== r.count)
        problems.push(`${r.resource}: snapshot.json says ${r.count} objects, archive has ${got}`);
    }
    if (objects !== m.totalObjects)
      problems.push(`snapshot.json says ${m.totalObjects} objects, archive has ${objects}`);
  }
  return { name, ok: problems.length === 0, entries: summary?.entries ?? 0, objects, problems };
}
