// The entry names of Velero's backup tarball (output file format 1.1.0). Each object is there
// up to three ways; a restore takes exactly one:
//
//   metadata/version                                             "1.1.0"
//   resources/<resource>[.<group>]/namespaces/<ns>/<name>.json   classic: the preferred version
//   resources/<resource>[.<group>]/cluster/<name>.json
//   resources/<resource>[.<group>]/<v>-preferredversion/namespaces/<ns>/<name>.json
//   resources/<resource>[.<group>]/<v>-preferredversion/cluster/<name>.json
//   resources/<resource>[.<group>]/<v>/…                         other versions
//                                                                (EnableAPIGroupVersions)
//
// As Velero's restore does, the `-preferredversion` entries are used when the archive has any
// (format 1.1), the classic ones otherwise (format 1.0); the other versions never.
// Pure: no I/O.
import { type ObjectLocation, objectEntryPath } from '../../archive/format.js';

export const VERSION_ENTRY = 'metadata/version';
const PREFERRED_SUFFIX = '-preferredversion';

export type EntryVariant = 'classic' | 'preferred' | 'other';

export interface VeleroEntry extends ObjectLocation {
  variant: EntryVariant;
  /** The API version of the directory (`v1`), for preferred and other entries. */
  version?: string;
}

function scoped(
  resource: string,
  rest: string[],
): Pick<VeleroEntry, 'resource' | 'namespace' | 'name'> | undefined {
  const file = rest[rest.length - 1] ?? '';
  if (!file.endsWith('.json') || file.length === '.json'.length) return undefined;
  const name = file.slice(0, -'.json'.length);
  if (rest.length === 2 && rest[0] === 'cluster') return { resource, name };
  if (rest.length === 3 && rest[0] === 'namespaces' && rest[1])
    return { resource, namespace: rest[1], name };
  return undefined;
}

/** The object an entry path names, or undefined for anything that is not one. */
export function parseVeleroEntryPath(path: string): VeleroEntry | undefined {
  const parts = path.split('/');
  const resource = parts[1];
  if (parts[0] !== 'resources' || !resource) return undefined;
  const classic = scoped(resource, parts.slice(2));
  if (classic) return { ...classic, variant: 'classic' };
  const dir = parts[2] ?? '';
  const inner = scoped(resource, parts.slice(3));
  if (!inner || dir === '' || dir === 'cluster' || dir === 'namespaces') return undefined;
  return dir.endsWith(PREFERRED_SUFFIX)
    ? { ...inner, variant: 'preferred', version: dir.slice(0, -PREFERRED_SUFFIX.length) }
    : { ...inner, variant: 'other', version: dir };
}

/**
 * The entries a backup of ours in Velero's format stores an object under, as Velero's backup
 * does (pkg/backup item_backupper): the classic path, read by a restore without
 * EnableAPIGroupVersions, and the same bytes under `<version>-preferredversion`, read with it
 * (and by us). `version` is the served version the object was listed at.
 */
export function veleroEntryPaths(loc: ObjectLocation, version: string): string[] {
  const classic = objectEntryPath(loc);
  const scope = classic.slice(`resources/${loc.resource}/`.length);
  return [classic, `resources/${loc.resource}/${version}${PREFERRED_SUFFIX}/${scope}`];
}

/**
 * Velero's nonRestorableResources (pkg/controller/restore_controller.go): a Velero restore
 * never creates these, so neither do we. They are checked against the resource list like
 * everything else, then left out of what a restore sees.
 */
export const NOT_RESTORED = new Set([
  'nodes',
  'events',
  'events.events.k8s.io',
  'backups.velero.io',
  'restores.velero.io',
  'resticrepositories.velero.io',
  'csinodes.storage.k8s.io',
  'volumeattachments.storage.k8s.io',
  'backuprepositories.velero.io',
]);
