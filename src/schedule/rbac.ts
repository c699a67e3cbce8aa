// The read-only RBAC of a schedule, decided in pure functions: a Role per backed-up namespace
// and, unless the schedule is namespaced-only, a ClusterRole for what must be read cluster-wide.
import { allows, type NamespaceRights } from '../backup/access.js';
import { listableTypes } from '../backup/select.js';
import { UserError } from '../core/errors.js';
import type { Selection } from '../core/types.js';
import type { DiscoveredType } from '../kube/discovery.js';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface RbacOptions {
  /** Roles only, no cluster rules (ScheduleSpec.namespacedOnly). */
  namespacedOnly?: boolean;
  /** The creator's rules in each covered namespace; undefined where the review failed. */
  creatorRights?: (NamespaceRights | undefined)[];
}

export interface RbacPlan {
  /** Namespaces that get a Role and RoleBinding (empty with -A). */
  namespaces: string[];
  /** The rules of each of those Roles. */
  namespaceRules: PolicyRule[];
  /** The ClusterRole's rules: only what must be read cluster-wide. */
  clusterRules: PolicyRule[];
}

const GET_LIST = ['get', 'list'];

function groupRules(types: Pick<DiscoveredType, 'group' | 'resource'>[]): PolicyRule[] {
  const byGroup = new Map<string, Set<string>>();
  for (const t of types) {
    const set = byGroup.get(t.group) ?? new Set<string>();
    set.add(t.resource);
    byGroup.set(t.group, set);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, resources]) => ({
      apiGroups: [group],
      resources: [...resources].sort(),
      verbs: [...GET_LIST],
    }));
}

/** The namespaces a namespaced schedule covers: -n minus --exclude-namespace, deduplicated. */
export function coveredNamespaces(sel: Selection): string[] {
  return [...new Set(sel.namespaces)].filter((n) => !sel.excludeNamespaces.includes(n)).sort();
}

/**
 * Read-only rules for exactly what the backup reads: `get` and `list` on each resource type
 * the selection takes (from discovery, after --include/--exclude-resources and the default
 * exclusions; never subresources such as pods/log or pods/exec), in each selected namespace.
 * Cluster-wide only what must be: `get` on the selected Namespace objects by name, and in
 * `auto` mode the related types the backup follows (PVs of included PVCs, CRDs, the
 * ClusterRoleBindings naming included ServiceAccounts and their ClusterRoles); with
 * `--include-cluster-resources true` every selected cluster-scoped type; with -A everything
 * cluster-wide, since RBAC cannot grant "all namespaces but some".
 */
export function rbacRules(
  selection: Selection,
  types: DiscoveredType[],
  opts: RbacOptions = {},
): RbacPlan {
  const selected = listableTypes(types, selection);
  if (opts.namespacedOnly) return namespacedOnlyRules(selection, selected, opts.creatorRights);
  const namespaced = selected.filter((t) => t.namespaced);
  const clusterScoped = selected.filter((t) => !t.namespaced);
  const has = (group: string, resource: string) =>
    selected.some((t) => t.group === group && t.resource === resource);
  const clusterTypes: Pick<DiscoveredType, 'group' | 'resource'>[] = [];
  const mode = selection.includeClusterResources;
  if (mode === 'true') clusterTypes.push(...clusterScoped);
  if (mode === 'auto') {
    if (has('', 'persistentvolumeclaims') && has('', 'persistentvolumes'))
      clusterTypes.push({ group: '', resource: 'persistentvolumes' });
    if (has('apiextensions.k8s.io', 'customresourcedefinitions'))
      clusterTypes.push({ group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' });
    if (has('', 'serviceaccounts') && has('rbac.authorization.k8s.io', 'clusterrolebindings')) {
      clusterTypes.push({ group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' });
      if (has('rbac.authorization.k8s.io', 'clusterroles'))
        clusterTypes.push({ group: 'rbac.authorization.k8s.io', resource: 'clusterroles' });
    }
  }
  if (selection.allNamespaces) {
    // Lists every namespace to find them, and every selected type across all namespaces.
    return {
      namespaces: [],
      namespaceRules: [],
      clusterRules: groupRules([
        { group: '', resource: 'namespaces' },
        ...namespaced,
        ...clusterTypes,
      ]),
    };
  }
  const covered = coveredNamespaces(selection);
  const nsRule: PolicyRule = {
    apiGroups: [''],
    resources: ['namespaces'],
    resourceNames: covered,
    verbs: ['get'],
  };
  return {
    namespaces: covered,
    namespaceRules: groupRules(namespaced),
    // With `true`, namespaces are listed like every cluster type and the by-name rule is moot.
    clusterRules: [
      ...(clusterTypes.some((t) => t.group === '' && t.resource === 'namespaces') ? [] : [nsRule]),
      ...groupRules(clusterTypes),
    ],
  };
}

/**
 * A namespaced-only schedule: one Role per covered namespace, nothing cluster-wide.
 * - -A is refused: reading every namespace needs a ClusterRole.
 * - Only types the creator may `get` and `list` in every covered namespace: the API server
 *   lets a Role grant only what its creator holds (the RBAC escalation check), so a type
 *   the creator may not read (for `admin`: podtemplates, csistoragecapacities, a CRD not
 *   aggregated into `admin`) would refuse the whole Role. The backup leaves those out as it
 *   does for the creator. A review that failed or that is incomplete (an authorizer other
 *   than RBAC) cannot prove a lack, so it drops nothing.
 * - `get` on `namespaces`: in a Role it grants reading that namespace's own object (its
 *   labels and annotations go into the snapshot); `admin` holds it through `view`. No
 *   resourceNames: one rule set serves every Role, and a Role reaches no other namespace.
 * - No verb beyond `get`/`list`, never `*`: `admin` holds no `*` verbs to grant.
 */
function namespacedOnlyRules(
  selection: Selection,
  selected: DiscoveredType[],
  creatorRights: (NamespaceRights | undefined)[] = [],
): RbacPlan {
  if (selection.allNamespaces)
    throw new UserError(
      'a namespaced-only schedule cannot back up all namespaces (-A)',
      'name the namespaces with -n, or create the schedule with cluster rights',
    );
  const mayRead = (t: DiscoveredType) =>
    creatorRights.every(
      (r) =>
        r === undefined ||
        r.incomplete ||
        (allows(r.rules, 'get', t) && allows(r.rules, 'list', t)),
    );
  const namespaced = selected.filter((t) => t.namespaced && mayRead(t));
  return {
    namespaces: coveredNamespaces(selection),
    namespaceRules: [
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
      ...groupRules(namespaced),
    ],
    clusterRules: [],
  };
}
