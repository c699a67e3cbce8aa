// The single owner of archive entry names. The layout is Velero's, so users and tools that
// know Velero backups can read ours (and we can read theirs):
//   metadata/version
//   resources/<resource>[.<group>]/namespaces/<namespace>/<name>.json
//   resources/<resource>[.<group>]/cluster/<name>.json
import { CorruptArchiveError } from '../core/errors.js';

export const VERSION_ENTRY = 'metadata/version';
/** Velero's archive format version for this layout; written so Velero tools accept the file. */
export const FORMAT_VERSION = '1.1.0';

export interface ObjectLocation {
  /** Qualified resource, e.g. `deployments.apps` or `configmaps`. */
  resource: string;
  namespace?: string;
  name: string;
}

export function objectEntryPath(loc: ObjectLocation): string {
  const scope = loc.namespace === undefined ? 'cluster' : `namespaces/${loc.namespace}`;
  return `resources/${loc.resource}/${scope}/${loc.name}.json`;
}

/** Parses an object entry path; undefined for entries that are not objects (metadata/…). */
export function parseObjectEntryPath(path: string): ObjectLocation | undefined {
  const parts = path.split('/');
  if (parts[0] !== 'resources') return undefined;
  const file = parts[parts.length - 1] ?? '';
  if (!file.endsWith('.json')) return undefined;
  const name = file.slice(0, -'.json'.length);
  if (parts.length === 4 && parts[2] === 'cluster') {
    return { resource: parts[1] as string, name };
  }
  if (parts.length === 5 && parts[2] === 'namespaces') {
    return { resource: parts[1] as string, namespace: parts[3] as string, name };
  }
  return undefined;
}

/**
 * Refuses entry names that could escape a directory if someone unpacked the archive, or
 * that no writer of ours produces: absolute paths, `..`, backslashes, NUL, empty segments.
 */
export function assertSafeEntryName(name: string): void {
  const bad =
    name.length === 0 ||
    name.startsWith('/') ||
    /^[a-zA-Z]:/.test(name) ||
    name.includes('\\') ||
    name.includes('\0') ||
    name.split('/').some((seg) => seg === '..' || seg === '.' || seg === '');
  if (bad) throw new CorruptArchiveError(`unsafe entry name in archive: ${JSON.stringify(name)}`);
}
