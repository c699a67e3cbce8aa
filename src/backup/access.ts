// Pure decisions of a backup about what its user may read: the rules a SelfSubjectRulesReview
// answers per namespace (one request per namespace, where a SelfSubjectAccessReview per type
// would be one per type and namespace), and what a type the user may not list means.
import { isCustomResource } from '../core/resources.js';
import { qualifiedResource, type ResourceType } from '../core/types.js';

export interface Rule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/** What a SelfSubjectRulesReview answered for one namespace. */
export interface NamespaceRights {
  rules: Rule[];
  /** The authorizer could not enumerate every rule (not RBAC): absence proves nothing. */
  incomplete: boolean;
}

/**
 * Namespaced types that are not application data: objects that controllers, drivers or the
 * cluster keep, which a namespace's users neither write nor need back. When the user may not
 * list them they are left out silently (an info line in the log), not a warning.
 */
export const NOT_APPLICATION_DATA: readonly { group: string; resource: string; reason: string }[] =
  [
    {
      group: '',
      resource: 'podtemplates',
      reason: 'pod templates are kept by controllers; workloads carry their own templates',
    },
    {
      group: 'storage.k8s.io',
      resource: 'csistoragecapacities',
      reason: "published by CSI drivers about the nodes' storage; the driver publishes them again",
    },
    {
      group: 'coordination.k8s.io',
      resource: 'leases',
      reason: 'leader-election and heartbeat records, renewed by their holders',
    },
    {
      group: 'events.k8s.io',
      resource: 'events',
      reason: 'history of the old cluster, not state; a restore never creates events',
    },
    {
      group: '',
      resource: 'events',
      reason: 'history of the old cluster, not state; a restore never creates events',
    },
  ];

/**
 * Related cluster objects a namespace-scoped user is not expected to read: their lack is
 * logged (info) instead of warned about when the user's rules show no right to list them.
 */
export const CLUSTER_RBAC: readonly string[] = [
  'clusterrolebindings.rbac.authorization.k8s.io',
  'clusterroles.rbac.authorization.k8s.io',
];

/** Whether any included type may be a custom resource: only then are CRDs looked up. */
export function includesCustomResources(typesWithObjects: Iterable<string>): boolean {
  for (const t of typesWithObjects) if (isCustomResource(t)) return true;
  return false;
}

/**
 * Whether included ServiceAccounts (`namespace/name`) call for their ClusterRoleBindings: not
 * when the only ones are the `default` ServiceAccounts the controller makes in every namespace.
 */
export function needsClusterRoleBindings(serviceAccounts: Iterable<string>): boolean {
  for (const sa of serviceAccounts) if (!sa.endsWith('/default')) return true;
  return false;
}

const has = (list: string[] | undefined, v: string) =>
  (list ?? []).includes(v) || (list ?? []).includes('*');

/** Whether the rules let the user do `verb` on every object of the type (no resourceNames). */
export function allows(rules: readonly Rule[], verb: string, type: ResourceType): boolean {
  return rules.some(
    (r) =>
      has(r.verbs, verb) &&
      has(r.apiGroups, type.group) &&
      has(r.resources, type.resource) &&
      (r.resourceNames ?? []).length === 0,
  );
}

/** Whether the rules grant any verb at all on the type, even on named objects only. */
function anyRight(rules: readonly Rule[], type: ResourceType): boolean {
  return rules.some((r) => has(r.apiGroups, type.group) && has(r.resources, type.resource));
}

/** The reason a type is not application data, or undefined. */
export function notApplicationReason(type: ResourceType): string | undefined {
  return NOT_APPLICATION_DATA.find((t) => t.group === type.group && t.resource === type.resource)
    ?.reason;
}

export type ListAccess =
  /** List it (allowed, or the rules cannot tell). */
  | { kind: 'list' }
  /** Not the user's application data: leave it out, log the reason as info. */
  | { kind: 'leave-out'; reason: string }
  /** Application data the user may not list: the snapshot is partial. */
  | { kind: 'forbidden' };

/**
 * What a backup does with a type in a namespace, given the user's rights there (undefined:
 * not reviewed). A custom resource type the user has no right at all on in the namespace is
 * not theirs (operators that mean namespace users to use a type aggregate it to admin/edit/view).
 */
export function listAccess(type: ResourceType, rights: NamespaceRights | undefined): ListAccess {
  if (!rights || rights.incomplete || allows(rights.rules, 'list', type)) return { kind: 'list' };
  return forbiddenAccess(type, rights);
}

/** What a list the server answered 403 (or the rules refuse) means for the snapshot. */
export function forbiddenAccess(type: ResourceType, rights?: NamespaceRights): ListAccess {
  const reason = notApplicationReason(type);
  if (reason) return { kind: 'leave-out', reason: `${reason}; you may not list them` };
  if (
    rights &&
    !rights.incomplete &&
    isCustomResource(qualifiedResource(type)) &&
    !anyRight(rights.rules, type)
  )
    return {
      kind: 'leave-out',
      reason:
        'a custom resource you have no rights on in this namespace, so none of its objects are yours',
    };
  return { kind: 'forbidden' };
}

/** Whether the reviews show the user may not list a cluster-scoped type (complete reviews only). */
export function knownUnlistable(type: ResourceType, reviews: readonly NamespaceRights[]): boolean {
  return (
    reviews.length > 0 && reviews.every((r) => !r.incomplete && !allows(r.rules, 'list', type))
  );
}
