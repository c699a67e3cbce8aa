// Reads a snapshot's archive completely and checks it against snapshot.json before a restore
// or diff may act on it: a damaged or tampered archive never reaches the cluster.
import { objectEntryPath } from '../archive/format.js';
import { CorruptArchiveError, errorMessage } from '../core/errors.js';
import { cloneJson, parseJson } from '../core/json.js';
import { classReferenceSkeleton } from '../core/references.js';
import type { KubeObject, SnapshotManifest } from '../core/types.js';
import type { DecryptionKey } from '../crypto/age.js';
import { readCheckedArchive } from '../snapshots/contents.js';
import type { SnapshotRepository } from '../snapshots/repository.js';
import { wantedDigest } from './digest.js';
import { Spool, type SpoolRef } from './spool.js';
import type { Transform } from './transforms/index.js';

/** One object of a snapshot, with where the archive says it belongs. */
export interface ArchivedObject {
  /** Qualified resource from the entry path, e.g. `deployments.apps`. */
  resource: string;
  /** Namespace from the entry path; undefined for cluster-scoped objects. */
  namespace?: string;
  name: string;
  /**
   * The object, or for namespaced objects read from a spool a planning view of it (see
   * planningView); `source` then reads the whole object back.
   */
  object: KubeObject;
  /**
   * Where the whole object is when `object` is its view: one reader per load, shared, and
   * the object's place in it. No closure per object: at 50,000 objects a closure, its two
   * contexts and the entry name it kept were 12 MiB of heap.
   */
  source?: ObjectSource;
  ref?: SpoolRef;
  /** `wantedDigest` of the object, when the load was asked for it (see CompareHint). */
  digest?: string;
}

/** Reads the whole objects of one load back. */
export interface ObjectSource {
  read(a: ArchivedObject): Promise<KubeObject>;
}

/** A private copy of the whole object (read back, or cloned when the load kept it whole). */
export function wholeObject(a: ArchivedObject): Promise<KubeObject> {
  return a.source ? a.source.read(a) : Promise.resolve(cloneJson(a.object));
}

/**
 * Which objects a restore will likely compare with existing ones: those of source namespaces
 * whose target namespace exists. Their digests are computed while the archive is read, when
 * each object is parsed anyway, instead of reading, decrypting and parsing it from the spool
 * again when it is found to exist.
 */
export interface CompareHint {
  mapping: ReadonlyMap<string, string>;
  /** Source namespaces (as named in the snapshot) whose target namespace exists. */
  namespaces: ReadonlySet<string>;
  /** The restore's transforms, so that digests are of the transformed objects. */
  transform?: { transform: Transform; preserveNodePorts: boolean };
}

/** Annotation values longer than this are left out of planning views (last-applied copies). */
const MAX_VIEW_ANNOTATION = 1024;

/**
 * The part of a namespaced object that selecting and skip rules read: name, labels, owner
 * references, small annotations, and the few fields of some kinds the skip rules use.
 * Everything else (data, specs, status, uid, timestamps) stays in the spool until the object
 * is created: a restore holds one view per object, so each byte here counts 50,000 times.
 * The skip-rule tests check every rule on views as well as on whole objects.
 */
export function planningView(o: KubeObject, resource?: string): KubeObject {
  const { name, namespace, labels, annotations, ownerReferences } = o.metadata;
  const meta: KubeObject['metadata'] = { name, namespace };
  // A copy: the loader may sanitise the object after taking its view (Job UID labels).
  if (labels) meta.labels = { ...labels };
  if (ownerReferences) meta.ownerReferences = ownerReferences;
  if (annotations) {
    const small = Object.entries(annotations).filter(([, v]) => v.length <= MAX_VIEW_ANNOTATION);
    if (small.length > 0) meta.annotations = Object.fromEntries(small);
  }
  const view: KubeObject = { apiVersion: o.apiVersion, kind: o.kind, metadata: meta };
  const status = o.status as { phase?: unknown; conditions?: unknown } | undefined;
  if (status && o.kind === 'Pod') view.status = { phase: status.phase };
  if (status && o.kind === 'Job') view.status = { conditions: status.conditions };
  const spec = o.spec as Record<string, unknown> | undefined;
  if (spec && o.kind === 'Service') view.spec = { selector: spec.selector };
  if (spec && o.kind === 'PersistentVolumeClaim') view.spec = { volumeName: spec.volumeName };
  // Cluster-scoped: what auto mode's relatedness and the PV skip rule read.
  if (spec && o.kind === 'PersistentVolume')
    view.spec = {
      claimRef: spec.claimRef,
      persistentVolumeReclaimPolicy: spec.persistentVolumeReclaimPolicy,
    };
  // RBAC: what the application closure (core/closure.ts) reads.
  if (o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') {
    view.subjects = o.subjects;
    view.roleRef = o.roleRef;
  }
  if (o.kind === 'Role' || o.kind === 'ClusterRole') view.rules = o.rules;
  if (o.kind === 'ClusterRole' && o.aggregationRule !== undefined)
    view.aggregationRule = o.aggregationRule;
  if (spec && o.kind === 'CustomResourceDefinition') {
    const names = spec.names as { plural?: unknown } | undefined;
    // The versions: whether the CRD serves a custom resource's version (dependencies.ts).
    const versions = Array.isArray(spec.versions)
      ? (spec.versions as { name?: unknown; served?: unknown }[]).map((v) => ({
          name: v.name,
          served: v.served,
        }))
      : undefined;
    view.spec = { group: spec.group, names: { plural: names?.plural }, versions };
  }
  // The classes it names (PriorityClass, StorageClass, …): for the closure and the
  // dependency preflight. By resource, as the archive names it.
  const refs = resource === undefined ? undefined : classReferenceSkeleton(resource, o);
  if (refs) mergeInto(view as Record<string, unknown>, refs);
  for (const k of ['type', 'imagePullSecrets', 'automountServiceAccountToken']) {
    if (o[k] !== undefined) view[k] = o[k];
  }
  return view;
}

/** Copies `from` into `to`, object by object, keeping what `to` has. */
function mergeInto(to: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    const have = to[k];
    if (have && typeof have === 'object' && v && typeof v === 'object')
      mergeInto(have as Record<string, unknown>, v as Record<string, unknown>);
    else to[k] = v;
  }
}

export interface LoadedArchive {
  objects: ArchivedObject[];
  /** Releases the spool; call when the restore is done. */
  close(): Promise<void>;
}

function parseEntry(manifest: SnapshotManifest, name: string, data: Buffer): KubeObject {
  try {
    return parseJson(data.toString('utf8')) as KubeObject;
  } catch (err) {
    throw new CorruptArchiveError(
      `archive of snapshot "${manifest.name}" is corrupt: entry ${name} is not valid JSON (${errorMessage(err)})`,
    );
  }
}

/**
 * Reads the whole archive through snapshots/contents.ts's checks (every entry against
 * snapshot.json, bounds, then the stored bytes). Every object goes to an encrypted spool file
 * and is kept in memory only as a planning view: cluster-scoped ones too, since an archive
 * may hold any number of them.
 */
export async function loadArchive(
  repo: SnapshotRepository,
  manifest: SnapshotManifest,
  key?: DecryptionKey,
  hint?: CompareHint,
): Promise<LoadedArchive> {
  const out: ArchivedObject[] = [];
  const spool = await Spool.create();
  const source: ObjectSource = {
    read: async (a) =>
      parseEntry(manifest, objectEntryPath(a), await spool.read(a.ref as SpoolRef)),
  };
  try {
    await readCheckedArchive(repo, manifest, key, async ({ loc, object, data }) => {
      const ref = await spool.append(data);
      const view = planningView(object, loc.resource);
      // The path's strings, equal to these (checked): one copy per object, not two.
      view.metadata.name = loc.name;
      if (loc.namespace === undefined) delete view.metadata.namespace;
      else view.metadata.namespace = loc.namespace;
      out.push({
        ...loc,
        object: view,
        source,
        ref,
        // After the view: the digest changes the object in place.
        ...(loc.namespace !== undefined && hint?.namespaces.has(loc.namespace)
          ? {
              digest: wantedDigest(
                object,
                hint.mapping,
                hint.transform && { ...hint.transform, context: loc },
              ),
            }
          : {}),
      });
    });
  } catch (err) {
    await spool.close();
    throw err;
  }
  return { objects: out, close: () => spool.close() };
}
