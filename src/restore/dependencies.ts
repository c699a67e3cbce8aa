// The dependency preflight of a restore or diff: every reference an object of the restore set
// makes to a cluster-scoped object, checked against the target cluster plus the restore set.
// A restore that "succeeds" while its RoleBindings name no ClusterRole, or its custom
// resources have no type, leaves an application that cannot run. Pure: preflight.ts asks the
// cluster (GETs, discovery) and hands the answers in.
import { classKind, classReferences, STORAGE_CLASSES } from '../core/references.js';
import { CLUSTER_ROLES, CRDS } from '../core/resource-names.js';
import { isCustomGroup } from '../core/resources.js';
import { apiVersionOf, type KubeObject, type ResourceType } from '../core/types.js';

const BINDINGS = new Set([
  'rolebindings.rbac.authorization.k8s.io',
  'clusterrolebindings.rbac.authorization.k8s.io',
]);

/** What an object needs: a cluster-scoped object by name, or its own type being served. */
export type Target =
  | { kind: 'object'; resource: string; objectKind: string; name: string }
  | { kind: 'type'; group: string; version: string; resource: string };

/** One object of the restore set, as far as its dependencies go (a planning view suffices). */
export interface Dependent {
  resource: string;
  kind: string;
  namespace?: string;
  name: string;
  /** The type it is created as. */
  type: ResourceType;
  object: KubeObject;
}

/** One target and who needs it (the first few of them, and how many). */
export interface Need {
  key: string;
  target: Target;
  neededBy: string[];
  neededByCount: number;
}

/** How many dependents a need names; the count says how many there are in all. */
const NAMED_DEPENDENTS = 10;

export function targetKey(t: Target): string {
  return t.kind === 'object'
    ? `${t.resource}/${t.name}`
    : `type:${t.resource}.${t.group}/${t.version}`;
}

/**
 * The rules, each with the reason the target must exist:
 * - every object: its type, at its version, must be served; for a custom resource that is its
 *   CRD (the create of an unserved type fails with a bare 404);
 * - RoleBindings and ClusterRoleBindings naming a ClusterRole: that ClusterRole (a binding to
 *   a missing role grants nothing, and says so nowhere);
 * - Pod templates (every workload kind, a CronJob's jobTemplate too): their PriorityClass and
 *   RuntimeClass (the API server refuses Pods that name a missing one);
 * - claims to be provisioned (a PersistentVolumeClaim not bound to a volume by name, a
 *   StatefulSet's claim templates): their StorageClass (claims of a missing class are never
 *   provisioned). A PersistentVolume, and a claim bound to one by name, match by the class's
 *   name alone: statically provisioned volumes often name a class that exists nowhere as an
 *   object (`manual`), so their class is not checked;
 * - Ingresses: spec.ingressClassName (no controller serves an Ingress of a missing class).
 *   The legacy `kubernetes.io/ingress.class` annotation is not checked: it names a
 *   controller's class, often with no IngressClass object at all.
 * References to namespaced objects (a RoleBinding's Role, a Pod's ConfigMap) are not checked:
 * they are part of the namespace's own contents.
 */
export function targetsOf(d: Dependent): Target[] {
  const out: Target[] = [
    { kind: 'type', group: d.type.group, version: d.type.version, resource: d.type.resource },
  ];
  if (BINDINGS.has(d.resource)) {
    const ref = d.object.roleRef as { kind?: string; name?: string } | undefined;
    if (ref?.kind === 'ClusterRole' && ref.name)
      out.push({
        kind: 'object',
        resource: CLUSTER_ROLES,
        objectKind: 'ClusterRole',
        name: ref.name,
      });
  }
  for (const r of classReferences(d.resource, d.object))
    if (!r.byAnnotation && !(r.resource === STORAGE_CLASSES && !provisioned(d)))
      out.push({
        kind: 'object',
        resource: r.resource,
        objectKind: classKind(r.resource),
        name: r.name,
      });
  return out;
}

/** Whether a StorageClass the object names is used to provision a volume (see targetsOf). */
function provisioned(d: Dependent): boolean {
  if (d.resource === 'persistentvolumes') return false;
  if (d.resource !== 'persistentvolumeclaims') return true;
  return !(d.object.spec as { volumeName?: string } | undefined)?.volumeName;
}

/** An object's targets, and how a report names the object. */
export interface Needing {
  by: string;
  targets: Target[];
}

export function needing(d: Dependent): Needing {
  return {
    by: `${d.kind} ${d.namespace ? `${d.namespace}/` : ''}${d.name}`,
    targets: targetsOf(d),
  };
}

/** Every target of `items`, once, with the first few that name it, in their order. */
export function needsOf(items: Iterable<Needing>): Need[] {
  const needs = new Map<string, Need>();
  for (const { by, targets } of items) {
    for (const target of targets) {
      const key = targetKey(target);
      let n = needs.get(key);
      if (!n) {
        n = { key, target, neededBy: [], neededByCount: 0 };
        needs.set(key, n);
      }
      n.neededByCount++;
      if (n.neededBy.length < NAMED_DEPENDENTS) n.neededBy.push(by);
    }
  }
  return [...needs.values()];
}

/** What the restore set itself provides: its cluster-scoped objects and the types its CRDs serve. */
export class RestoreSet {
  private readonly objects = new Set<string>();
  /** CRD name (`plural.group`) → the versions it serves. */
  private readonly crds = new Map<string, Set<string>>();

  add(resource: string, name: string, object: KubeObject): void {
    this.objects.add(`${resource}/${name}`);
    if (resource !== CRDS) return;
    const versions = (object.spec as { versions?: { name?: unknown; served?: unknown }[] })
      ?.versions;
    this.crds.set(
      name,
      new Set(
        (Array.isArray(versions) ? versions : [])
          .filter((v) => v.served !== false && typeof v.name === 'string')
          .map((v) => v.name as string),
      ),
    );
  }

  provides(t: Target): boolean {
    if (t.kind === 'object') return this.objects.has(`${t.resource}/${t.name}`);
    return this.crds.get(`${t.resource}.${t.group}`)?.has(t.version) === true;
  }

  /** Whether the restore set has the CRD of a type (at any version). */
  hasCrdOf(t: Extract<Target, { kind: 'type' }>): boolean {
    return this.crds.has(`${t.resource}.${t.group}`);
  }
}

/** What the cluster said of a target the restore set does not provide. */
export type Presence =
  | { state: 'present' }
  | { state: 'absent' }
  /** Could not be asked (forbidden to this user, no cluster, discovery failed): why. */
  | { state: 'unknown'; why: string };

export interface MissingDependency {
  /** `ClusterRole`, `StorageClass`, …, or `CustomResourceDefinition` for an unserved custom type. */
  kind: string;
  /** The object's name; for a type, `plural.group`. */
  name: string;
  reason: string;
  /** The first objects of the restore that need it, as `Kind namespace/name`. */
  neededBy: string[];
  neededByCount: number;
}

/** Targets that could not be checked, by kind and why: never reported missing. */
export interface UncheckedDependencies {
  kind: string;
  names: string[];
  reason: string;
}

export interface DependencyFindings {
  missing: MissingDependency[];
  notChecked: UncheckedDependencies[];
}

const CONSEQUENCE: Record<string, string> = {
  [CLUSTER_ROLES]: 'a binding to it grants nothing',
  'priorityclasses.scheduling.k8s.io': 'the API server refuses Pods that name it',
  'runtimeclasses.node.k8s.io': 'the API server refuses Pods that name it',
  'storageclasses.storage.k8s.io': 'claims of it are never provisioned',
  'ingressclasses.networking.k8s.io': 'no controller serves Ingresses of it',
};

function missingReason(
  t: Target,
  restoreSet: RestoreSet,
): { kind: string; name: string; reason: string } {
  if (t.kind === 'object')
    return {
      kind: t.objectKind,
      name: t.name,
      reason: `${t.objectKind} ${t.name} is not in the cluster or the snapshot: ${CONSEQUENCE[t.resource] ?? 'objects of the restore name it'}`,
    };
  const qualified = t.group ? `${t.resource}.${t.group}` : t.resource;
  if (!isCustomGroup(t.group))
    return {
      kind: 'resource type',
      name: qualified,
      reason: `resource type ${qualified} (${apiVersionOf(t)}) is not served by the cluster`,
    };
  return {
    kind: 'CustomResourceDefinition',
    name: qualified,
    reason: restoreSet.hasCrdOf(t)
      ? `custom resource type ${qualified} is not served at version ${t.version}: the snapshot's CRD does not serve it`
      : `custom resource type ${qualified} is not served: its CRD is not in the cluster or the snapshot`,
  };
}

/**
 * Judges each need: provided by the restore set, else as the cluster says (`cluster` is asked
 * only for what the restore set lacks). Absent is missing; unknown is "not checked", grouped by
 * kind and reason, never missing: a namespace admin may not GET ClusterRoles, and a client dry
 * run has no cluster to ask.
 */
export function judgeDependencies(
  needs: readonly Need[],
  restoreSet: RestoreSet,
  cluster: (t: Target) => Presence,
): DependencyFindings {
  const missing: MissingDependency[] = [];
  const unchecked = new Map<string, UncheckedDependencies>();
  for (const n of needs) {
    if (restoreSet.provides(n.target)) continue;
    const p = cluster(n.target);
    if (p.state === 'present') continue;
    if (p.state === 'absent') {
      missing.push({
        ...missingReason(n.target, restoreSet),
        neededBy: n.neededBy,
        neededByCount: n.neededByCount,
      });
      continue;
    }
    const { kind, name } = missingReason(n.target, restoreSet);
    const key = `${kind}\n${p.why}`;
    const u = unchecked.get(key) ?? { kind, names: [], reason: p.why };
    u.names.push(name);
    unchecked.set(key, u);
  }
  const byName = (a: { kind: string; name: string }, b: { kind: string; name: string }) =>
    a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name);
  return {
    missing: missing.sort(byName),
    notChecked: [...unchecked.values()]
      .map((u) => ({ ...u, names: u.names.sort() }))
      .sort((a, b) => a.kind.localeCompare(b.kind)),
  };
}
