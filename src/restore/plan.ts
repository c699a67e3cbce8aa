// planRestore: archive contents + options → what to create, in which order, and what is
// left out and why. Pure; the runner executes it and `--dry-run=client` prints it.

import { applicationClosure, ClosureFacts } from '../core/closure.js';
import { controlPlaneOwned } from '../core/control-plane.js';
import { CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, CRDS, NAMESPACES } from '../core/resource-names.js';
import { matchesResource, type TypeNames, withNames } from '../core/resources.js';
import { matchesSelector, type Requirement } from '../core/selectors.js';
import {
  type ClusterResourcesMode,
  type KubeObject,
  NAMESPACE_TYPE,
  parseApiVersion,
  type ResourceCount,
  type ResourceType,
  resourceType,
} from '../core/types.js';
import { type ArchivedObject, wholeObject } from './load.js';
import { applyNamespaceMappingInPlace, checkMappingTargets } from './mapping.js';
import { restoreTiers } from './order.js';
import { sanitizeInPlace } from './sanitize.js';
import { kindSkipReason, skipReason } from './skip.js';
import type { Transform } from './transforms/index.js';

export interface RestoreOptions {
  /** Namespaces of the snapshot to restore (as named in the snapshot); empty: all. */
  namespaces: string[];
  mapping: ReadonlyMap<string, string>;
  selector?: Requirement[];
  includeResources: string[];
  excludeResources: string[];
  includeClusterResources: ClusterResourcesMode;
  preserveNodePorts: boolean;
  /** Restore-time transforms (transforms/), applied after sanitising and mapping. */
  transform?: Transform;
  /** Each type's other names (short names, singular): from the snapshot and the cluster. */
  typeNames?: TypeNames;
}

export interface PlannedObject {
  resource: string;
  type: ResourceType;
  kind: string;
  /** Target namespace (after mapping); undefined for cluster-scoped objects. */
  namespace?: string;
  name: string;
  /**
   * The object sanitised and mapped: exactly what will be sent. Loaded on demand, so a plan
   * of 50,000 objects does not hold them all in memory.
   */
  materialize(): Promise<KubeObject>;
  /** The object as backed up (managedFields included); absent for a bare namespace. */
  original?(): Promise<KubeObject>;
  /** The digest of `normalizeInPlace(materialize())`, when the load computed it. */
  digest?: string;
  /** A namespace made from its name alone: the snapshot holds no Namespace object for it. */
  bare?: true;
}

export interface LeftOut {
  resource: string;
  kind: string;
  /** The target namespace (after mapping), as every result names it. */
  namespace?: string;
  name: string;
  reason: string;
}

export interface RestorePlan {
  /** CustomResourceDefinitions: created first, then waited for until Established. */
  crds: PlannedObject[];
  /** Target namespaces, each with the object to create when it does not exist. */
  namespaces: PlannedObject[];
  /** The rest in priority order; objects within one tier may be created in parallel. */
  tiers: PlannedObject[][];
  skipped: LeftOut[];
}

const CRD = CRDS;

/** Is a cluster-scoped object something the selected namespaces depend on (auto mode)? */
function relatedToNamespaces(
  a: ArchivedObject,
  namespaces: Set<string>,
  usedTypes: Set<string>,
  roles: Set<string>,
): boolean {
  const o = a.object as KubeObject & Record<string, unknown>;
  switch (a.resource) {
    case NAMESPACES:
      return namespaces.has(a.name);
    case 'persistentvolumes': {
      const ns = (o.spec as { claimRef?: { namespace?: string } } | undefined)?.claimRef?.namespace;
      return ns !== undefined && namespaces.has(ns);
    }
    case CRD:
      return usedTypes.has(a.name);
    case 'clusterrolebindings.rbac.authorization.k8s.io':
      return ((o.subjects as { kind?: string; namespace?: string }[] | undefined) ?? []).some(
        (s) =>
          s.kind === 'ServiceAccount' && s.namespace !== undefined && namespaces.has(s.namespace),
      );
    case 'clusterroles.rbac.authorization.k8s.io':
      return roles.has(a.name);
    default:
      return false;
  }
}

type Prepare = (full: KubeObject, a: ArchivedObject) => KubeObject;

/** Sanitises, maps and transforms a private copy of an object (from the spool, or cloned). */
function preparer(opts: RestoreOptions, pvNames: Set<string>): Prepare {
  return (full, a) => {
    const out = applyNamespaceMappingInPlace(
      sanitizeInPlace(full, {
        preserveNodePorts: opts.preserveNodePorts,
        volumeRestored: (pv) => pvNames.has(pv),
      }),
      opts.mapping,
    );
    return opts.transform ? opts.transform.apply(out, a) : out;
  };
}

/**
 * A planned object. A class, not a literal with a closure: 50,000 of them share one
 * materialize, and nothing of the planner (its sets of every object's key) stays alive.
 */
class Planned implements PlannedObject {
  readonly resource: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly digest?: string;

  constructor(
    private readonly source: ArchivedObject,
    readonly type: ResourceType,
    mapping: ReadonlyMap<string, string>,
    private readonly prepare: Prepare,
  ) {
    const mapped = (ns: string) => mapping.get(ns) ?? ns;
    this.resource = source.resource;
    this.kind = source.object.kind;
    if (source.namespace !== undefined) this.namespace = mapped(source.namespace);
    this.name = source.resource === NAMESPACES ? mapped(source.name) : source.name;
    if (source.digest !== undefined) this.digest = source.digest;
  }

  async materialize(): Promise<KubeObject> {
    return this.prepare(await wholeObject(this.source), this.source);
  }

  original(): Promise<KubeObject> {
    return wholeObject(this.source);
  }
}

/**
 * Whether --include-resources and --exclude-resources select objects of type `t`, by every
 * name kubectl knows it by (opts.typeNames: short names and singular, as backup matches them).
 */
function typeSelected(type: ResourceType, opts: RestoreOptions): boolean {
  const t = withNames(type, opts.typeNames);
  if (opts.excludeResources.some((p) => matchesResource(t, p))) return false;
  return (
    opts.includeResources.length === 0 || opts.includeResources.some((p) => matchesResource(t, p))
  );
}

/** A list a restore looks objects up in: one type in one target namespace. */
export interface Collection {
  type: ResourceType;
  namespace: string;
}

/**
 * The lists a restore into existing namespaces will need, known from snapshot.json alone, so
 * they can run while the archive is read: every selected namespaced type of the snapshot in
 * each target namespace that exists (`sources`: their names in the snapshot), earlier tiers
 * first. Types whose objects are never created are not listed.
 */
export function lookupCollections(
  resources: readonly ResourceCount[],
  opts: RestoreOptions,
  sources: ReadonlySet<string>,
): Collection[] {
  const types = new Map<string, ResourceType>();
  for (const r of resources) {
    if (!r.namespaced || r.count === 0 || kindSkipReason(r)) continue;
    const t = resourceType(r.resource, r.apiVersion, r.kind, true);
    if (typeSelected(t, opts)) types.set(r.resource, t);
  }
  const out: Collection[] = [];
  for (const tier of restoreTiers(types.keys())) {
    for (const r of tier) {
      const type = types.get(r) as ResourceType;
      for (const ns of sources) out.push({ type, namespace: opts.mapping.get(ns) ?? ns });
    }
  }
  return out;
}

export function planRestore(archived: ArchivedObject[], opts: RestoreOptions): RestorePlan {
  const skipped: LeftOut[] = [];
  const leaveOut = (a: ArchivedObject, reason: string) =>
    skipped.push({
      resource: a.resource,
      kind: a.object.kind,
      namespace:
        a.namespace !== undefined ? (opts.mapping.get(a.namespace) ?? a.namespace) : undefined,
      name: a.name,
      reason,
    });

  const snapshotNamespaces = new Set<string>();
  for (const a of archived) if (a.namespace !== undefined) snapshotNamespaces.add(a.namespace);
  for (const a of archived) if (a.resource === NAMESPACES) snapshotNamespaces.add(a.name);
  const selectedNs = new Set(
    opts.namespaces.length > 0
      ? opts.namespaces.filter((n) => snapshotNamespaces.has(n))
      : snapshotNamespaces,
  );
  checkMappingTargets(opts.mapping, selectedNs);

  // One ResourceType per type, shared by its objects' plans.
  const types = new Map<string, ResourceType>();
  const typeFor = (a: ArchivedObject): ResourceType => {
    const key = `${a.resource}|${a.object.apiVersion}|${a.object.kind}`;
    let type = types.get(key);
    if (!type) {
      type = resourceType(
        a.resource,
        a.object.apiVersion,
        a.object.kind,
        a.namespace !== undefined,
      );
      types.set(key, type);
    }
    return type;
  };
  const typeMatches = (a: ArchivedObject) => typeSelected(typeFor(a), opts);
  const excludedByName = (a: ArchivedObject) => {
    const t = withNames(typeFor(a), opts.typeNames);
    return opts.excludeResources.some((p) => p !== '*' && matchesResource(t, p));
  };
  const labelMatches = (a: ArchivedObject) =>
    !opts.selector || matchesSelector(opts.selector, a.object.metadata.labels);

  // Pass 1: namespaced objects selected by namespace, type and labels.
  const selected: ArchivedObject[] = [];
  for (const a of archived) {
    if (a.namespace === undefined) continue;
    if (!selectedNs.has(a.namespace)) continue;
    if (!typeMatches(a)) leaveOut(a, 'resource type not selected');
    else if (!labelMatches(a)) leaveOut(a, 'labels do not match the selector');
    else selected.push(a);
  }

  // Pass 2: cluster-scoped objects, by mode. Namespaces and CRDs are structure, not content:
  // the label selector does not apply to them.
  const usedTypes = new Set(selected.map((a) => a.resource));
  const bindings = archived.filter(
    (a) =>
      a.resource === 'clusterrolebindings.rbac.authorization.k8s.io' &&
      relatedToNamespaces(a, selectedNs, usedTypes, new Set()),
  );
  const roles = new Set(
    bindings
      .map((b) => b.object.roleRef as { kind?: string; name?: string } | undefined)
      .filter((r) => r?.kind === 'ClusterRole')
      .map((r) => r?.name as string),
  );
  // The application closure of the selection over the snapshot's cluster objects: CRDs its
  // ServiceAccounts are granted, ClusterRoles its RoleBindings name and what they aggregate.
  const facts = new ClosureFacts();
  for (const a of selected) facts.observe(a.resource, a.object);
  // Their PersistentVolumes name StorageClasses too.
  for (const a of archived)
    if (a.resource === 'persistentvolumes' && relatedToNamespaces(a, selectedNs, usedTypes, roles))
      facts.observe(a.resource, a.object);
  const clusterOf = (resource: string) =>
    archived
      .filter((a) => a.namespace === undefined && a.resource === resource)
      .map((a) => a.object);
  const closure = new Set(
    applicationClosure(facts, {
      crds: clusterOf(CRD),
      clusterRoles: clusterOf(CLUSTER_ROLES),
      clusterRoleBindings: clusterOf(CLUSTER_ROLE_BINDINGS),
    }).map((i) => `${i.resource}/${i.name}`),
  );
  for (const a of archived) {
    if (a.namespace !== undefined) continue;
    const structural = a.resource === NAMESPACES || a.resource === CRD;
    if (a.resource === NAMESPACES) {
      // Namespace objects come along whatever the mode: their labels and annotations matter.
      if (selectedNs.has(a.name)) selected.push(a);
      continue;
    }
    // What the selected objects need to run (auto: their closure) comes whatever
    // --include-resources and -l say, as in backup: a restore of only `kafkas` still needs their
    // CRD. Only a type excluded by name stays out.
    const needed =
      opts.includeClusterResources === 'auto' && closure.has(`${a.resource}/${a.name}`);
    const wanted =
      opts.includeClusterResources === 'true' ||
      needed ||
      (opts.includeClusterResources === 'auto' &&
        relatedToNamespaces(a, selectedNs, usedTypes, roles));
    // What the control plane owns is the target cluster's own (snapshots taken before the
    // backup left it out still have it).
    const owned =
      opts.includeClusterResources === 'true' ? controlPlaneOwned(a.resource, a.object) : undefined;
    if (!wanted)
      leaveOut(
        a,
        `cluster-scoped, not selected (--include-cluster-resources=${opts.includeClusterResources})`,
      );
    else if (owned) leaveOut(a, owned);
    else if (needed && excludedByName(a)) leaveOut(a, 'resource type excluded');
    else if (needed) selected.push(a);
    else if (!typeMatches(a)) leaveOut(a, 'resource type not selected');
    else if (!structural && !labelMatches(a)) leaveOut(a, 'labels do not match the selector');
    else selected.push(a);
  }

  // Pass 3: skip what the cluster re-creates, then sanitise and map what remains.
  const keyOf = (group: string, kind: string, ns: string | undefined, name: string) =>
    `${group}/${kind}/${ns ?? ''}/${name}`;
  const restoring = new Set(
    selected.map((a) =>
      keyOf(parseApiVersion(a.object.apiVersion).group, a.object.kind, a.namespace, a.name),
    ),
  );
  const clusterKinds = new Set(
    selected
      .filter((a) => a.namespace === undefined)
      .map((a) => `${parseApiVersion(a.object.apiVersion).group}/${a.object.kind}`),
  );
  const services = new Map<string, boolean>();
  for (const a of selected) {
    if (a.resource === 'services') {
      const sel = (a.object.spec as { selector?: Record<string, string> } | undefined)?.selector;
      services.set(`${a.namespace}/${a.name}`, !!sel && Object.keys(sel).length > 0);
    }
  }
  const creating = (a: ArchivedObject) =>
    skipReason(a.object, {
      restoring: (apiVersion, kind, ns, name) => {
        const g = parseApiVersion(apiVersion).group;
        return restoring.has(
          keyOf(g, kind, clusterKinds.has(`${g}/${kind}`) ? undefined : ns, name),
        );
      },
      serviceHasSelector: (ns, name) => services.get(`${ns}/${name}`),
    });
  const kept: ArchivedObject[] = [];
  for (const a of selected) {
    const reason = creating(a);
    if (reason) leaveOut(a, reason);
    else kept.push(a);
  }
  const pvNames = new Set(
    kept.filter((a) => a.resource === 'persistentvolumes').map((a) => a.name),
  );

  const prepare = preparer(opts, pvNames);
  const planned: PlannedObject[] = kept.map(
    (a) => new Planned(a, typeFor(a), opts.mapping, prepare),
  );

  // Every selected namespace gets created if missing, from its backed-up object when the
  // snapshot has one (labels, annotations), else bare.
  const nsPlanned = planned.filter((p) => p.resource === NAMESPACES);
  for (const ns of selectedNs) {
    const target = opts.mapping.get(ns) ?? ns;
    if (!nsPlanned.some((p) => p.name === target)) {
      nsPlanned.push({
        resource: NAMESPACES,
        type: NAMESPACE_TYPE,
        kind: 'Namespace',
        name: target,
        bare: true,
        materialize: async () => ({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: target },
        }),
      });
    }
  }

  const rest = planned.filter((p) => p.resource !== NAMESPACES && p.resource !== CRD);
  const byResource = new Map<string, PlannedObject[]>();
  for (const p of rest) {
    const list = byResource.get(p.resource);
    if (list) list.push(p);
    else byResource.set(p.resource, [p]);
  }
  const tiers = restoreTiers(byResource.keys()).map((tier) =>
    tier.flatMap((r) => byResource.get(r) ?? []),
  );

  return {
    crds: planned.filter((p) => p.resource === CRD),
    namespaces: nsPlanned.sort((a, b) => a.name.localeCompare(b.name)),
    tiers,
    skipped,
  };
}
