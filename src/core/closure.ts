// The application closure: the cluster-scoped objects a selection of namespaced objects needs
// to run again after a disaster (namespaces, CRDs and cluster RBAC gone), each with its reason.
// Pure: what was listed goes in, the objects to add come out. Backup (`auto`) adds them;
// restore (`auto`) takes from a snapshot the cluster objects the same rules name.
import { classKind, classReferences, fieldName } from './references.js';
import {
  CLUSTER_ROLE_BINDINGS,
  CLUSTER_ROLES,
  CRDS,
  NAMESPACES,
  PERSISTENT_VOLUMES,
  ROLE_BINDINGS,
  ROLES,
} from './resource-names.js';
import { matchesSelector, type Requirement } from './selectors.js';
import type { KubeObject } from './types.js';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

interface RoleRef {
  kind?: string;
  name?: string;
}

/** The parts of a RoleBinding the closure reads. */
export interface BindingFacts {
  namespace: string;
  name: string;
  roleRef: RoleRef;
  subjects: Subject[];
}

/** What the selection's namespaced objects tell about the cluster objects they need. */
export class ClosureFacts {
  /** PersistentVolume name → `namespace/name` of the claim bound to it. */
  readonly persistentVolumes = new Map<string, string>();
  /** `namespace/name` of every ServiceAccount of the selection. */
  readonly serviceAccounts = new Set<string>();
  /** Qualified names (`plural.group`) of types that had at least one object. */
  readonly typesWithObjects = new Set<string>();
  readonly roleBindings: BindingFacts[] = [];
  /** `namespace/name` of a Role → its rules. */
  readonly roles = new Map<string, PolicyRule[]>();
  /** `resource/name` of each class the selection names (core/references.ts) → the first reason. */
  readonly classes = new Map<string, { resource: string; name: string; reason: string }>();

  /** Records one object of the selection, by its qualified resource. */
  observe(resource: string, obj: KubeObject): void {
    this.typesWithObjects.add(resource);
    const ns = obj.metadata.namespace ?? '';
    const at = `${ns}/${obj.metadata.name}`;
    for (const ref of classReferences(resource, obj)) {
      const key = `${ref.resource}/${ref.name}`;
      const who = ns ? `${obj.kind} ${at}` : `${obj.kind} ${obj.metadata.name}`;
      if (!this.classes.has(key))
        this.classes.set(key, {
          resource: ref.resource,
          name: ref.name,
          reason: `${classKind(ref.resource)} named by ${who} (${fieldName(ref.path)})`,
        });
    }
    switch (resource) {
      case 'persistentvolumeclaims': {
        const vol = (obj.spec as { volumeName?: string } | undefined)?.volumeName;
        if (vol) this.persistentVolumes.set(vol, at);
        break;
      }
      case 'serviceaccounts':
        this.serviceAccounts.add(at);
        break;
      case ROLES:
        this.roles.set(at, asArray<PolicyRule>(obj.rules));
        break;
      case ROLE_BINDINGS:
        this.roleBindings.push({
          namespace: ns,
          name: obj.metadata.name,
          roleRef: (obj.roleRef as RoleRef | undefined) ?? {},
          subjects: asArray<Subject>(obj.subjects),
        });
        break;
    }
  }

  /** Does any RoleBinding name a ClusterRole (so the cluster's ClusterRoles are needed)? */
  namesClusterRoles(): boolean {
    return this.roleBindings.some((b) => b.roleRef.kind === 'ClusterRole');
  }
}

/** The cluster's lists the closure picks from; undefined: not read (forbidden or excluded). */
export interface ClusterLists {
  /** The selection's Namespace objects, as read. */
  namespaces?: KubeObject[];
  crds?: KubeObject[];
  clusterRoles?: KubeObject[];
  clusterRoleBindings?: KubeObject[];
}

export interface Inclusion {
  /** Qualified resource, e.g. `clusterroles.rbac.authorization.k8s.io`. */
  resource: string;
  name: string;
  /** The object to store; undefined for PersistentVolumes and classes, read one by one. */
  object?: KubeObject;
  reason: string;
}

/**
 * The cluster objects to add for a selection, each once with the first reason found:
 * 1. the Namespace objects of the selection;
 * 2. PersistentVolumes bound to its claims;
 * 3. ClusterRoleBindings with one of its ServiceAccounts as subject;
 * 4. ClusterRoles named by its RoleBindings or by those ClusterRoleBindings, and the
 *    ClusterRoles an included aggregated ClusterRole aggregates; an aggregated ClusterRole is
 *    stored with its aggregationRule and without the `rules` the controller computes;
 * 5. CRDs of its custom resources, and CRDs whose resources its ServiceAccounts are granted by
 *    their Roles and ClusterRoles (a rule naming the group and the plural, or one of them
 *    with `*`; `*` for both grants everything and names no CRD);
 * 6. the PriorityClasses, RuntimeClasses, StorageClasses and IngressClasses its objects name,
 *    as references: a restore creates them only when absent (core/references.ts).
 * `allowed` says which qualified resources may be added (the user's --exclude-resources).
 */
export function applicationClosure(
  facts: ClosureFacts,
  lists: ClusterLists,
  allowed: (resource: string) => boolean = () => true,
): Inclusion[] {
  const out: Inclusion[] = [];
  const seen = new Set<string>();
  const include = (i: Inclusion) => {
    const key = `${i.resource}/${i.name}`;
    if (!allowed(i.resource) || seen.has(key)) return;
    seen.add(key);
    out.push(i);
  };

  for (const ns of lists.namespaces ?? [])
    include({
      resource: NAMESPACES,
      name: ns.metadata.name,
      object: ns,
      reason: 'namespace of the selection',
    });

  for (const [pv, claim] of facts.persistentVolumes)
    include({
      resource: PERSISTENT_VOLUMES,
      name: pv,
      reason: `bound to PersistentVolumeClaim ${claim}`,
    });

  const isOurAccount = (s: Subject, bindingNs?: string) =>
    s.kind === 'ServiceAccount' &&
    facts.serviceAccounts.has(`${s.namespace ?? bindingNs}/${s.name}`);

  // Bindings that give the selection's objects their rights: each with its role and accounts.
  interface Grant {
    binding: string;
    namespace?: string;
    roleRef: RoleRef;
    accounts: string[];
  }
  const grants: Grant[] = [];
  for (const b of facts.roleBindings) {
    grants.push({
      binding: `RoleBinding ${b.namespace}/${b.name}`,
      namespace: b.namespace,
      roleRef: b.roleRef,
      accounts: b.subjects
        .filter((s) => isOurAccount(s, b.namespace))
        .map((s) => `${s.namespace ?? b.namespace}/${s.name}`),
    });
  }
  for (const crb of lists.clusterRoleBindings ?? []) {
    const accounts = asArray<Subject>(crb.subjects)
      .filter((s) => isOurAccount(s))
      .map((s) => `${s.namespace}/${s.name}`);
    if (accounts.length === 0) continue;
    include({
      resource: CLUSTER_ROLE_BINDINGS,
      name: crb.metadata.name,
      object: crb,
      reason: `binds ServiceAccount ${accounts[0]}`,
    });
    grants.push({
      binding: `ClusterRoleBinding ${crb.metadata.name}`,
      roleRef: (crb.roleRef as RoleRef | undefined) ?? {},
      accounts,
    });
  }

  const clusterRoles = new Map((lists.clusterRoles ?? []).map((r) => [r.metadata.name, r]));
  const componentsOf = (role: KubeObject): KubeObject[] => {
    const selectors = asArray<LabelSelector>(
      (role.aggregationRule as { clusterRoleSelectors?: unknown } | undefined)
        ?.clusterRoleSelectors,
    ).map(requirementsOf);
    return [...clusterRoles.values()].filter(
      (r) => r !== role && selectors.some((reqs) => matchesSelector(reqs, r.metadata.labels)),
    );
  };
  const visited = new Set<string>();
  const includeClusterRole = (name: string, reason: string) => {
    const pending: [string, string][] = [[name, reason]];
    for (let next = pending.shift(); next; next = pending.shift()) {
      const role = clusterRoles.get(next[0]);
      if (!role || visited.has(next[0])) continue;
      visited.add(next[0]);
      const aggregated = role.aggregationRule !== undefined;
      const { rules: _computed, ...withoutRules } = role;
      include({
        resource: CLUSTER_ROLES,
        name: next[0],
        object: aggregated ? (withoutRules as KubeObject) : role,
        reason: next[1],
      });
      if (aggregated)
        for (const c of componentsOf(role))
          pending.push([c.metadata.name, `aggregated into ClusterRole ${next[0]}`]);
    }
  };
  for (const g of grants)
    if (g.roleRef.kind === 'ClusterRole' && g.roleRef.name)
      includeClusterRole(g.roleRef.name, `named by ${g.binding}`);

  /** The rules a role grants: a Role's own, a ClusterRole's own and its components'. */
  const rulesOf = (g: Grant): PolicyRule[] => {
    if (g.roleRef.kind === 'Role') return facts.roles.get(`${g.namespace}/${g.roleRef.name}`) ?? [];
    const role = g.roleRef.name === undefined ? undefined : clusterRoles.get(g.roleRef.name);
    if (!role) return [];
    const own = asArray<PolicyRule>(role.rules);
    return role.aggregationRule === undefined
      ? own
      : [...own, ...componentsOf(role).flatMap((c) => asArray<PolicyRule>(c.rules))];
  };

  const crds = lists.crds ?? [];
  for (const crd of crds)
    if (facts.typesWithObjects.has(crd.metadata.name))
      include({
        resource: CRDS,
        name: crd.metadata.name,
        object: crd,
        reason: 'has custom resources in the selection',
      });
  for (const g of grants) {
    if (g.accounts.length === 0) continue;
    const rules = rulesOf(g);
    for (const crd of crds) {
      const spec = crd.spec as { group?: string; names?: { plural?: string } } | undefined;
      if (
        spec?.group &&
        spec.names?.plural &&
        rules.some((r) => grantsType(r, spec.group as string, spec.names?.plural as string))
      )
        include({
          resource: CRDS,
          name: crd.metadata.name,
          object: crd,
          reason: `granted to ServiceAccount ${g.accounts[0]} by ${g.roleRef.kind} ${g.roleRef.name} (${g.binding})`,
        });
    }
  }
  for (const c of facts.classes.values()) include({ ...c });
  return out;
}

/** Does a rule name the type: its group and plural, at most one of them by `*`? */
export function grantsType(rule: PolicyRule, group: string, plural: string): boolean {
  if ((rule.verbs ?? []).length === 0) return false;
  const groups = rule.apiGroups ?? [];
  const resources = (rule.resources ?? []).map((r) => r.split('/')[0]);
  const namedGroup = groups.includes(group);
  const namedPlural = resources.includes(plural);
  return (
    (namedGroup || groups.includes('*')) &&
    (namedPlural || resources.includes('*')) &&
    (namedGroup || namedPlural)
  );
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

function requirementsOf(s: LabelSelector): Requirement[] {
  const reqs: Requirement[] = Object.entries(s.matchLabels ?? {}).map(([key, v]) => ({
    key,
    op: 'in',
    values: [v],
  }));
  for (const e of s.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === 'exists' || op === 'doesnotexist')
      reqs.push({ key: e.key, op: op === 'exists' ? 'exists' : 'notexists' });
    else reqs.push({ key: e.key, op: op === 'notin' ? 'notin' : 'in', values: e.values ?? [] });
  }
  return reqs;
}

function asArray<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}
