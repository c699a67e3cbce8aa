// The one check of an archive against its snapshot.json, shared by verify, restore and diff.
// Whoever can write the bucket can write both files (and fix up the checksum), so the archive
// is untrusted input: it may hold exactly what snapshot.json declares and nothing else, and a
// read of it stops as soon as it holds more. Every mismatch is a CorruptArchiveError, thrown
// before any caller has changed anything.
import { type ObjectLocation, parseObjectEntryPath, VERSION_ENTRY } from '../archive/format.js';
import { DEFAULT_MAX_ENTRY, readArchive } from '../archive/reader.js';
import { applicationClosure, ClosureFacts } from '../core/closure.js';
import { CorruptArchiveError, errorMessage } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import { REFERENCE_RESOURCES } from '../core/references.js';
import { CLUSTER_ROLES, CRDS } from '../core/resource-names.js';
import type { KubeObject, ResourceCount, SnapshotManifest } from '../core/types.js';
import { parseApiVersion } from '../core/types.js';
import type { DecryptionKey } from '../crypto/age.js';
import { archiveKey } from './layout.js';
import { type CheckedObject, NO_KEY, type SnapshotRepository } from './repository.js';

export type { CheckedObject } from './repository.js';

/** Largest accepted object entry: the API server's request limit (3 MiB). */
export const MAX_ENTRY_BYTES = DEFAULT_MAX_ENTRY;
/** Slack over the recorded inflated size (the tar's zero padding, rounding). */
const INFLATED_MARGIN = 64 * 1024;
/** Snapshots from before `inflatedSize` was recorded: this many times their stored size… */
const LEGACY_RATIO = 200;
/** …and never less than this. */
const LEGACY_MIN = 64 * 1024 * 1024;

const NAMESPACES = 'namespaces';
const CRBS = 'clusterrolebindings.rbac.authorization.k8s.io';
const PVS = 'persistentvolumes';
/** The cluster-scoped types `--include-cluster-resources auto` adds (backup/select.ts). */
const AUTO_CLUSTER_TYPES = new Set([
  NAMESPACES,
  PVS,
  CRDS,
  CRBS,
  CLUSTER_ROLES,
  ...REFERENCE_RESOURCES,
]);

/** How much a read of this snapshot's archive may inflate, and the largest entry. */
export function readLimits(m: SnapshotManifest): {
  maxInflatedBytes: number;
  maxEntryBytes: number;
} {
  const recorded = m.archive.inflatedSize;
  const maxInflatedBytes =
    recorded !== undefined
      ? recorded + INFLATED_MARGIN
      : Math.max(LEGACY_MIN, m.archive.size * LEGACY_RATIO);
  return { maxInflatedBytes, maxEntryBytes: MAX_ENTRY_BYTES };
}

/** The group of a qualified resource: `deployments.apps` → `apps`, `configmaps` → ''. */
function groupOf(resource: string): string {
  const dot = resource.indexOf('.');
  return dot < 0 ? '' : resource.slice(dot + 1);
}

/**
 * Checks entries one by one as they are read (throwing at the first one that is not what
 * snapshot.json declares), then `finish` checks what must be complete. Pure: no I/O.
 */
export class ArchiveContentsCheck {
  private readonly types = new Map<string, ResourceCount>();
  private readonly counts = new Map<string, number>();
  private readonly namespaces: Set<string>;
  private readonly seen = new Set<string>();
  /** What the namespaced entries need (core/closure.ts), and the closure's candidates. */
  private readonly facts = new ClosureFacts();
  private readonly closureCandidates = new Map<string, KubeObject[]>([
    [CRDS, []],
    [CLUSTER_ROLES, []],
    [CRBS, []],
    ...[...REFERENCE_RESOURCES].map((r): [string, KubeObject[]] => [r, []]),
  ]);
  private sawVersion = false;
  objects = 0;

  constructor(private readonly m: SnapshotManifest) {
    for (const r of m.resources) this.types.set(r.resource, r);
    this.namespaces = new Set(m.namespaces);
  }

  private corrupt(problem: string): CorruptArchiveError {
    return new CorruptArchiveError(`archive of snapshot "${this.m.name}" is corrupt: ${problem}`);
  }

  /** The object an entry holds, or undefined for metadata/version. */
  entry(name: string, data: Buffer): CheckedObject | undefined {
    if (this.seen.has(name)) throw this.corrupt(`entry ${name} appears twice`);
    this.seen.add(name);
    if (name === VERSION_ENTRY) {
      this.sawVersion = true;
      return undefined;
    }
    const loc = parseObjectEntryPath(name);
    if (!loc) throw this.corrupt(`unexpected entry ${JSON.stringify(name)}`);
    const type = this.types.get(loc.resource);
    if (!type)
      throw this.corrupt(`entry ${name} is of ${loc.resource}, which snapshot.json does not list`);
    if (type.namespaced !== (loc.namespace !== undefined)) {
      throw this.corrupt(
        `entry ${name} is ${loc.namespace === undefined ? 'cluster-scoped' : 'namespaced'}, but snapshot.json lists ${loc.resource} as ${type.namespaced ? 'namespaced' : 'cluster-scoped'}`,
      );
    }
    const count = (this.counts.get(loc.resource) ?? 0) + 1;
    this.counts.set(loc.resource, count);
    if (count > type.count)
      throw this.corrupt(`more ${loc.resource} objects than the ${type.count} snapshot.json lists`);
    if (++this.objects > this.m.totalObjects)
      throw this.corrupt(`more objects than the ${this.m.totalObjects} snapshot.json lists`);
    if (loc.namespace !== undefined && !this.namespaces.has(loc.namespace)) {
      throw this.corrupt(
        `entry ${name} is in namespace ${loc.namespace}, which is not one of the snapshot's namespaces (${this.m.namespaces.join(', ')})`,
      );
    }
    let object: KubeObject;
    try {
      object = parseJson(data.toString('utf8')) as KubeObject;
    } catch (err) {
      throw this.corrupt(`entry ${name} is not valid JSON (${errorMessage(err)})`);
    }
    const meta = object?.metadata;
    if (
      typeof object !== 'object' ||
      object === null ||
      typeof object.apiVersion !== 'string' ||
      typeof object.kind !== 'string' ||
      typeof meta !== 'object' ||
      meta === null ||
      meta.name !== loc.name ||
      (meta.namespace ?? undefined) !== loc.namespace
    ) {
      throw this.corrupt(`entry ${name} does not hold the object its path names`);
    }
    if (
      parseApiVersion(object.apiVersion).group !== groupOf(loc.resource) ||
      object.kind !== type.kind
    ) {
      throw this.corrupt(
        `entry ${name} holds a ${object.apiVersion} ${object.kind}, not the ${type.kind} of ${loc.resource} its path names`,
      );
    }
    if (loc.namespace === undefined) this.clusterScoped(name, loc, object);
    else if (this.m.selection.includeClusterResources === 'auto')
      this.facts.observe(loc.resource, object);
    return { loc, object, data };
  }

  /** The cluster-scoped policy snapshot.json's selection recorded. */
  private clusterScoped(name: string, loc: ObjectLocation, o: KubeObject): void {
    const mode = this.m.selection.includeClusterResources;
    if (mode === 'false') {
      throw this.corrupt(
        `entry ${name} is cluster-scoped, but the snapshot was taken with --include-cluster-resources=false`,
      );
    }
    if (mode === 'true') return;
    if (!AUTO_CLUSTER_TYPES.has(loc.resource)) {
      throw this.corrupt(
        `entry ${name} is a cluster-scoped ${loc.resource}, which --include-cluster-resources=auto never backs up`,
      );
    }
    const ours = (ns: unknown) => typeof ns === 'string' && this.namespaces.has(ns);
    const unrelated = () =>
      this.corrupt(`entry ${name} is not related to the snapshot's namespaces, as auto requires`);
    switch (loc.resource) {
      case NAMESPACES:
        if (!ours(loc.name)) throw unrelated();
        break;
      case PVS:
        if (
          !ours((o.spec as { claimRef?: { namespace?: unknown } } | undefined)?.claimRef?.namespace)
        )
          throw unrelated();
        this.facts.observe(PVS, o); // the StorageClass it names
        break;
      case CRDS:
      case CLUSTER_ROLES:
        // Checked in finish against the application closure of the namespaced entries,
        // which may come later in the archive.
        this.closureCandidates.get(loc.resource)?.push(o);
        break;
      case CRBS: {
        const subjects = Array.isArray(o.subjects) ? (o.subjects as unknown[]) : [];
        const bound = subjects.some((s) => {
          const x = s as { kind?: unknown; namespace?: unknown } | null;
          return x?.kind === 'ServiceAccount' && ours(x.namespace);
        });
        if (!bound) throw unrelated();
        this.closureCandidates.get(CRBS)?.push(o);
        break;
      }
      default: // the classes its objects name, also checked in finish
        this.closureCandidates.get(loc.resource)?.push(o);
    }
  }

  /** After the last entry: everything declared was there. */
  finish(): void {
    if (!this.sawVersion) throw this.corrupt(`missing ${VERSION_ENTRY}`);
    for (const r of this.m.resources) {
      const got = this.counts.get(r.resource) ?? 0;
      if (got !== r.count)
        throw this.corrupt(
          `${r.resource}: snapshot.json says ${r.count} objects, archive has ${got}`,
        );
    }
    if (this.objects !== this.m.totalObjects)
      throw this.corrupt(
        `snapshot.json says ${this.m.totalObjects} objects, archive has ${this.objects}`,
      );
    if (this.m.selection.includeClusterResources !== 'auto') return;
    const closure = new Set(
      applicationClosure(this.facts, {
        crds: this.closureCandidates.get(CRDS),
        clusterRoles: this.closureCandidates.get(CLUSTER_ROLES),
        clusterRoleBindings: this.closureCandidates.get(CRBS),
      }).map((i) => `${i.resource}/${i.name}`),
    );
    // ClusterRoleBindings were checked as they came; the roles they name are theirs.
    const crbs = this.closureCandidates.get(CRBS) ?? [];
    for (const b of crbs) {
      const ref = b.roleRef as { kind?: unknown; name?: unknown } | undefined;
      if (ref?.kind === 'ClusterRole') closure.add(`${CLUSTER_ROLES}/${String(ref.name)}`);
    }
    for (const [resource, objs] of this.closureCandidates) {
      if (resource === CRBS) continue;
      for (const o of objs) {
        if (!closure.has(`${resource}/${o.metadata.name}`)) {
          throw this.corrupt(
            resource === CLUSTER_ROLES
              ? `ClusterRole ${o.metadata.name} is named by no binding of the snapshot's namespaces nor aggregated into a ClusterRole they need, as auto requires`
              : `entry resources/${resource}/cluster/${o.metadata.name}.json is not related to the snapshot's namespaces, as auto requires`,
          );
        }
      }
    }
  }
}

/** The archive snapshot.json names must be the snapshot's own. */
export function checkArchiveKey(m: SnapshotManifest): void {
  if (m.archive.key !== archiveKey(m.name)) {
    throw new CorruptArchiveError(
      `snapshot.json of "${m.name}" names archive ${JSON.stringify(m.archive.key)}, not the snapshot's own ${archiveKey(m.name)}`,
    );
  }
}

/**
 * Reads a snapshot's archive through every check: its key, its bounds, each entry against
 * snapshot.json, completeness, then the stored bytes' size and sha256. `onObject` sees only
 * objects that passed; its errors pass through as they are.
 */
export async function readCheckedArchive(
  repo: SnapshotRepository,
  m: SnapshotManifest,
  key: DecryptionKey = NO_KEY,
  onObject: (o: CheckedObject) => void | Promise<void> = () => {},
): Promise<{ entries: number; objects: number }> {
  // A layout with an archive format of its own (Velero's) reads it through its own checks.
  const foreign = repo.foreignArchive;
  if (foreign) return foreign(m, key, onObject);
  checkArchiveKey(m);
  const check = new ArchiveContentsCheck(m);
  const archive = await repo.openArchive(m, key);
  const { entries } = await readArchive(
    archive.stream,
    async ({ name, data }) => {
      const o = check.entry(name, data);
      if (o) await onObject(o);
    },
    readLimits(m),
  );
  check.finish();
  await archive.checkIntegrity();
  return { entries, objects: check.objects };
}
