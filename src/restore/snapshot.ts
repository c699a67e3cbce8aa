// Reading a snapshot before a restore or diff acts on it: snapshot.json, the checks of the
// restore's options against it, then the whole archive, while the lists of what the target
// namespaces hold already run (reads only).
import { UserError } from '../core/errors.js';
import { mapLimit } from '../core/pool.js';
import { type TypeNames, typeNamesOf } from '../core/resources.js';
import { NAMESPACE_TYPE, type SnapshotManifest } from '../core/types.js';
import type { DecryptionKey } from '../crypto/age.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { discover, objectPath } from '../kube/discovery.js';
import { economizeHeapFor } from '../node-flags.js';
import type { SnapshotRepository } from '../snapshots/repository.js';
import { RESTORABLE_PHASES } from '../snapshots/velero/backup.js';
import { checkAgainstSnapshot } from './check-options.js';
import { type ArchivedObject, loadArchive } from './load.js';
import { Lookups } from './lookup.js';
import { lookupCollections, type RestoreOptions } from './plan.js';

export interface LoadedSnapshot {
  manifest: SnapshotManifest;
  objects: ArchivedObject[];
  /** Lookup lists started while the archive was read (given a cluster to load for). */
  lookups?: Lookups;
  /** The other names of its types (short names, singular) the restore's filters resolve. */
  typeNames: TypeNames;
  /** Releases the temporary spool of objects and stops the lookups. */
  close(): Promise<void>;
}

/**
 * Reads snapshot.json and the whole archive, verifying it, before anything changes the
 * cluster. Given the restore's options, it first checks them against snapshot.json
 * (`checkAgainstSnapshot`, with the cluster's types when there is a cluster). Given the
 * cluster too, it then reads which target namespaces exist; the lists of what they hold run
 * while the archive is read (reads only), and the objects that will be compared with them are
 * digested as they are parsed.
 */
export async function loadSnapshot(
  repo: SnapshotRepository,
  name: string,
  key?: DecryptionKey,
  target?: { client?: KubeClient; options: RestoreOptions; allowPartial?: boolean },
): Promise<LoadedSnapshot> {
  const manifest = await repo.readManifest(name);
  if (target && !target.allowPartial) refuseUnfinished(manifest);
  const client = target?.client;
  const typeNames = target
    ? await checkAgainstSnapshot(
        manifest,
        target.options,
        client && (async () => (await discover(client)).types),
      )
    : typeNamesOf(manifest.resources);
  economizeHeapFor(manifest.totalObjects);
  if (!target || !client) {
    const { objects, close } = await loadArchive(repo, manifest, key);
    return { manifest, objects, typeNames, close };
  }
  const options = { ...target.options, typeNames };
  const namespaces = await existingTargets(client, manifest, options);
  const lookups = new Lookups(client);
  for (const c of lookupCollections(manifest.resources, options, namespaces))
    lookups.prefetch(c.type, c.namespace);
  try {
    const { objects, close } = await loadArchive(repo, manifest, key, {
      mapping: options.mapping,
      namespaces,
      ...(options.transform
        ? {
            transform: {
              transform: options.transform,
              preserveNodePorts: options.preserveNodePorts,
            },
          }
        : {}),
    });
    return {
      manifest,
      objects,
      lookups,
      typeNames,
      close: async () => {
        await lookups.close();
        await close();
      },
    };
  } catch (err) {
    await lookups.close();
    throw err;
  }
}

/**
 * A Velero backup that did not finish (Failed, FailedValidation, InProgress, …): Velero's
 * restore refuses it, since what it holds is whatever was written before it stopped.
 */
function refuseUnfinished(m: SnapshotManifest): void {
  if (!m.velero || RESTORABLE_PHASES.has(m.velero.phase)) return;
  throw new UserError(
    `Velero backup "${m.name}" is ${m.velero.phase}, not Completed or PartiallyFailed: it may hold only part of what it selected`,
    'restore it anyway with --allow-partial (diff it first), or pick a completed backup (kubectl snapshot list)',
  );
}

/** The snapshot's selected namespaces whose target namespace exists (unreadable ones: not). */
async function existingTargets(
  client: KubeClient,
  manifest: SnapshotManifest,
  opts: RestoreOptions,
): Promise<Set<string>> {
  const wanted = new Set(opts.namespaces);
  const sources = manifest.namespaces.filter((ns) => wanted.size === 0 || wanted.has(ns));
  const found = await mapLimit(sources, 16, async (ns) => {
    const target = opts.mapping.get(ns) ?? ns;
    try {
      return (await client.getOptional(objectPath(NAMESPACE_TYPE, target))) ? ns : undefined;
    } catch (err) {
      // Only a hint: a namespace we may not read is compared the slower way.
      if (err instanceof ApiError) return undefined;
      throw err;
    }
  });
  return new Set(found.filter((ns): ns is string => ns !== undefined));
}
