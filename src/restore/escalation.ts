// RBAC a restore would create that grants wide rights: never silent. A snapshot is data someone
// else may have written; a RoleBinding to cluster-admin in it, restored by an administrator,
// hands that someone the cluster. The rules, each with its reason; pure.

import { CLUSTER_ROLE_BINDINGS, ROLE_BINDINGS } from '../core/resource-names.js';
import type { KubeObject } from '../core/types.js';

/**
 * The built-in user-facing ClusterRoles that grant write access: `cluster-admin` everything,
 * `admin` and `edit` every namespaced workload and Secret (edit can read any Secret and run
 * Pods as any ServiceAccount of the namespace), so binding them is handing out those rights.
 */
export const POWERFUL_CLUSTER_ROLES: Readonly<Record<string, string>> = {
  'cluster-admin': 'full control of the cluster',
  admin: 'full control of the namespace, Secrets and RBAC included',
  edit: 'write access to the namespace, Secrets included',
};

export interface Escalation {
  resource: string;
  kind: string;
  namespace?: string;
  name: string;
  /** Why it is listed. */
  reason: string;
}

interface RoleRef {
  kind?: string;
  name?: string;
}

interface Rule {
  verbs?: unknown;
  resources?: unknown;
  apiGroups?: unknown;
}

/** Whether a ClusterRole's rules grant every verb (`*`) on something, and on what. */
export function wildcardVerbs(role: KubeObject | undefined): string | undefined {
  const rules = ((role as { rules?: unknown } | undefined)?.rules ?? []) as Rule[];
  if (!Array.isArray(rules)) return undefined;
  for (const r of rules) {
    if (!Array.isArray(r.verbs) || !r.verbs.includes('*')) continue;
    const resources = Array.isArray(r.resources) ? r.resources.join(',') : '';
    return resources || 'non-resource URLs';
  }
  return undefined;
}

/**
 * Why creating `binding` escalates, or undefined. `clusterRole` is the ClusterRole it refers
 * to as the snapshot has it, else as the cluster has it (undefined when neither does).
 */
export function escalationReason(
  resource: string,
  binding: KubeObject,
  clusterRole: KubeObject | undefined,
): string | undefined {
  const ref = ((binding as { roleRef?: RoleRef }).roleRef ?? {}) as RoleRef;
  const role = ref.kind === 'ClusterRole' ? ref.name : undefined;
  const wild = role !== undefined ? wildcardVerbs(clusterRole) : undefined;
  const powerful = role !== undefined ? POWERFUL_CLUSTER_ROLES[role] : undefined;
  const grants = powerful ? ` (${powerful})` : wild ? ` (every verb on ${wild})` : '';
  // Rule: a ClusterRoleBinding grants its role in every namespace and on cluster objects,
  // whatever the role: always worth a look.
  if (resource === CLUSTER_ROLE_BINDINGS)
    return `binds ClusterRole ${ref.name ?? '?'}${grants} cluster-wide`;
  if (resource !== ROLE_BINDINGS || role === undefined) return undefined;
  // Rule: a RoleBinding to cluster-admin, admin or edit hands out write access to the
  // namespace (cluster-admin's rules in a namespace are everything there).
  if (powerful)
    return `binds ClusterRole ${role}${grants} in namespace ${binding.metadata.namespace}`;
  // Rule: a RoleBinding to a ClusterRole with `*` verbs is as good as admin on those resources.
  if (wild) return `binds ClusterRole ${role}${grants} in namespace ${binding.metadata.namespace}`;
  return undefined;
}

/** The ClusterRole a binding refers to, if any: the name to look up. */
export function boundClusterRole(binding: KubeObject): string | undefined {
  const ref = (binding as { roleRef?: RoleRef }).roleRef;
  return ref?.kind === 'ClusterRole' && typeof ref.name === 'string' ? ref.name : undefined;
}

/** Does the report need the role's rules for this binding (not a built-in name)? */
export function needsRoleRules(resource: string, binding: KubeObject): boolean {
  if (resource !== ROLE_BINDINGS && resource !== CLUSTER_ROLE_BINDINGS) return false;
  const role = boundClusterRole(binding);
  return role !== undefined && POWERFUL_CLUSTER_ROLES[role] === undefined;
}
