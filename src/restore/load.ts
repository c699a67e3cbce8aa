// Reads a snapshot's archive completely and checks it against snapshot.json before a restore
// or diff may act on it: a damaged or tampered archive never reaches the cluster.
import { parseObjectEntryPath, VERSION_ENTRY } from '../archive/format.js';
import { readArchive } from '../archive/reader.js';
import { openArchive } from '../catalog/catalog.js';
import { CorruptArchiveError, errorMessage } from '../core/errors.js';
import type { KubeObject, SnapshotManifest } from '../core/types.js';
import type { DecryptionKey } from '../crypto/age.js';
import type { ObjectStore } from '../storage/store.js';

/** One object of a snapshot, with where the archive says it belongs. */
export interface ArchivedObject {
  /** Qualified resource from the entry path, e.g. `deployments.apps`. */
  resource: string;
  /** Namespace from the entry path; undefined for cluster-scoped objects. */
  namespace?: string;
  name: string;
  object: KubeObject;
}

export async function loadArchive(
  store: ObjectStore,
  manifest: SnapshotManifest,
  key?: DecryptionKey,
): Promise<ArchivedObject[]> {
  const out: ArchivedObject[] = [];
  const archive = await openArchive(store, manifest, key);
  await readArchive(archive.stream, ({ name, data }) => {
    if (name === VERSION_ENTRY) return;
    const loc = parseObjectEntryPath(name);
    if (!loc)
      throw new CorruptArchiveError(
        `archive of snapshot "${manifest.name}" is corrupt: unexpected entry ${JSON.stringify(name)}`,
      );
    let object: KubeObject;
    try {
      object = JSON.parse(data.toString('utf8')) as KubeObject;
    } catch (err) {
      throw new CorruptArchiveError(
        `archive of snapshot "${manifest.name}" is corrupt: entry ${name} is not valid JSON (${errorMessage(err)})`,
      );
    }
    const m = object?.metadata;
    if (
      typeof object?.apiVersion !== 'string' ||
      typeof object.kind !== 'string' ||
      m?.name !== loc.name ||
      (m.namespace ?? undefined) !== loc.namespace
    ) {
      throw new CorruptArchiveError(
        `archive of snapshot "${manifest.name}" is corrupt: entry ${name} does not hold the object its path names`,
      );
    }
    out.push({ ...loc, object });
  });
  await archive.checkIntegrity();
  return out;
}
