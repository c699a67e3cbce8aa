// Every key of a Velero backup storage location we read or write (as Velero's ObjectStoreLayout in
// pkg/persistence owns them there). Keys are relative to the location's prefix:
//
//   backups/<name>/velero-backup.json            the Backup object, written last by Velero
//   backups/<name>/<name>.tar.gz                 the objects (see archive.ts)
//   backups/<name>/<name>-resource-list.json.gz  apiVersion/Kind → ["ns/name" | "name"]
//   backups/<name>/<name>-logs.gz                the backup log
//   backups/<name>/<name>-volumesnapshots.json.gz  volume snapshots: `[]` when we write
//   backups/<name>/<name>-results.gz, …         not read
import { isDns1123Label, validateSnapshotName } from '../../core/names.js';

export const BACKUPS_PREFIX = 'backups/';
export const METADATA_FILE = 'velero-backup.json';

function backupDir(name: string): string {
  validateSnapshotName(name);
  return `${BACKUPS_PREFIX}${name}/`;
}

export function metadataKey(name: string): string {
  return backupDir(name) + METADATA_FILE;
}

export function contentsKey(name: string): string {
  return `${backupDir(name)}${name}.tar.gz`;
}

export function resourceListKey(name: string): string {
  return `${backupDir(name)}${name}-resource-list.json.gz`;
}

export function logKey(name: string): string {
  return `${backupDir(name)}${name}-logs.gz`;
}

export function volumeSnapshotsKey(name: string): string {
  return `${backupDir(name)}${name}-volumesnapshots.json.gz`;
}

/** Every key under one backup's directory starts with this. */
export function backupPrefix(name: string): string {
  return backupDir(name);
}

/**
 * The backup a key belongs to and its file, or undefined for other keys and for names we
 * cannot take as snapshot names (Velero allows 253 characters; we read DNS-1123 labels).
 */
export function parseBackupKey(key: string): { name: string; file: string } | undefined {
  if (!key.startsWith(BACKUPS_PREFIX)) return undefined;
  const rest = key.slice(BACKUPS_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const name = rest.slice(0, slash);
  if (!isDns1123Label(name)) return undefined;
  return { name, file: rest.slice(slash + 1) };
}
