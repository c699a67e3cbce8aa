// The single owner of a snapshot's object keys (as Velero's ObjectStoreLayout is of a backup's).
// Every key is relative to a store's root/prefix:
//
//   snapshots/<name>/.lock               created exclusively when a backup starts
//   snapshots/<name>/resources.tar.gz    the archive
//   snapshots/<name>/log.jsonl.gz        the backup log
//   snapshots/<name>/snapshot.json.sig   the Ed25519 signature of snapshot.json's exact bytes
//                                        (backup --sign-key), written just before it
//   snapshots/<name>/snapshot.json       the manifest, written last: without it the snapshot
//                                        does not exist for list/restore
import { isDns1123Label, validateSnapshotName } from '../core/names.js';

export const SNAPSHOTS_DIR = 'snapshots';
export const SNAPSHOTS_PREFIX = `${SNAPSHOTS_DIR}/`;

export const ARCHIVE_FILE = 'resources.tar.gz';
export const LOG_FILE = 'log.jsonl.gz';
export const MANIFEST_FILE = 'snapshot.json';
export const LOCK_FILE = '.lock';
export const SIGNATURE_FILE = `${MANIFEST_FILE}.sig`;

/** `snapshots/<name>/`: every object of one snapshot starts with this. */
export function snapshotPrefix(name: string): string {
  validateSnapshotName(name);
  return `${SNAPSHOTS_PREFIX}${name}/`;
}

export function archiveKey(name: string): string {
  return snapshotPrefix(name) + ARCHIVE_FILE;
}

export function logKey(name: string): string {
  return snapshotPrefix(name) + LOG_FILE;
}

export function manifestKey(name: string): string {
  return snapshotPrefix(name) + MANIFEST_FILE;
}

/** The signature of snapshot.json, present only in signed snapshots. */
export function signatureKey(name: string): string {
  return snapshotPrefix(name) + SIGNATURE_FILE;
}

/**
 * Created with createExclusive when a backup starts, so two backups with one name cannot both
 * proceed. A name is taken when its lock or its snapshot.json exists.
 */
export function lockKey(name: string): string {
  return snapshotPrefix(name) + LOCK_FILE;
}

export interface ParsedKey {
  /** The snapshot name. */
  name: string;
  /** The path below `snapshots/<name>/`, e.g. `snapshot.json`. */
  file: string;
}

/**
 * `{ name, file }` for a key `snapshots/<name>/<file>`; undefined for any other key, including
 * keys whose name is not a valid snapshot name (stray objects must not break a listing).
 */
export function parseKey(key: string): ParsedKey | undefined {
  if (!key.startsWith(SNAPSHOTS_PREFIX)) return undefined;
  const rest = key.slice(SNAPSHOTS_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  const name = rest.slice(0, slash);
  if (!isDns1123Label(name)) return undefined;
  return { name, file: rest.slice(slash + 1) };
}

/**
 * The sorted, distinct snapshot names among `keys`. With `file`, only names that have that
 * file, e.g. `snapshotNamesFromKeys(keys, MANIFEST_FILE)` for complete snapshots.
 */
export function snapshotNamesFromKeys(keys: Iterable<string>, file?: string): string[] {
  const names = new Set<string>();
  for (const key of keys) {
    const parsed = parseKey(key);
    if (parsed && (file === undefined || parsed.file === file)) names.add(parsed.name);
  }
  return [...names].sort();
}
