// The order a restore creates resource types in. Resources of one tier do not depend on
// each other and are created in parallel; a tier starts when the one before it is done.

/**
 * Tiers in order; a resource not listed belongs to REST_TIER, between the listed ones and
 * LAST. Names are qualified resources (`deployments.apps`, `configmaps`).
 */
const TIERS: readonly (readonly string[])[] = [
  // Custom resources cannot be created before their definition is Established.
  ['customresourcedefinitions.apiextensions.k8s.io'],
  // Everything namespaced needs its Namespace.
  ['namespaces'],
  // Cluster-wide settings that admission or binding of later objects looks up: a Pod naming a
  // missing PriorityClass or RuntimeClass is rejected; claims and ingresses name classes.
  [
    'priorityclasses.scheduling.k8s.io',
    'runtimeclasses.node.k8s.io',
    'storageclasses.storage.k8s.io',
    'volumesnapshotclasses.snapshot.storage.k8s.io',
    'ingressclasses.networking.k8s.io',
  ],
  // Volumes before claims, so a claim naming its volume finds it pre-bound to it.
  ['persistentvolumes'],
  // ServiceAccounts before Secrets: the token controller deletes a token Secret whose
  // ServiceAccount does not exist.
  ['persistentvolumeclaims', 'serviceaccounts'],
  // Admission of Pods checks quotas and limit ranges, and Pods mount Secrets/ConfigMaps.
  ['secrets', 'configmaps', 'limitranges', 'resourcequotas'],
  // A binding is checked against the rules of the role it grants (escalation check), so the
  // roles come first; all RBAC comes before the workloads whose ServiceAccounts need it.
  ['clusterroles.rbac.authorization.k8s.io', 'roles.rbac.authorization.k8s.io'],
  ['clusterrolebindings.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io'],
  // In place before Pods start: network isolation, Service discovery (environment variables
  // are only injected for Services that exist when a Pod starts), disruption budgets.
  ['networkpolicies.networking.k8s.io', 'services', 'poddisruptionbudgets.policy'],
  // Workloads. Those a restored controller owns are skipped (see skip.ts), so creating the
  // rest in parallel makes no duplicates.
  [
    'deployments.apps',
    'statefulsets.apps',
    'daemonsets.apps',
    'replicasets.apps',
    'replicationcontrollers',
    'cronjobs.batch',
    'jobs.batch',
    'pods',
  ],
  // What points at workloads or Services.
  ['ingresses.networking.k8s.io', 'horizontalpodautoscalers.autoscaling'],
];

/**
 * Created after everything else: a webhook or aggregated API points at a Service whose Pods
 * are not running yet, and would fail (or block) the creates of every later object.
 */
const LAST: readonly string[] = [
  'mutatingwebhookconfigurations.admissionregistration.k8s.io',
  'validatingwebhookconfigurations.admissionregistration.k8s.io',
  'validatingadmissionpolicies.admissionregistration.k8s.io',
  'validatingadmissionpolicybindings.admissionregistration.k8s.io',
  'apiservices.apiregistration.k8s.io',
];

/** Tier of every resource not named above: after the workloads, before LAST. */
export const REST_TIER = TIERS.length;
export const LAST_TIER = TIERS.length + 1;

const tierByResource = new Map<string, number>();
TIERS.forEach((resources, tier) => {
  for (const r of resources) tierByResource.set(r, tier);
});
for (const r of LAST) tierByResource.set(r, LAST_TIER);

/** The tier of a qualified resource: lower tiers are created first. */
export function tierOf(qualifiedResource: string): number {
  return tierByResource.get(qualifiedResource) ?? REST_TIER;
}

/** Sorts by tier, then alphabetically (code-unit order, locale-independent). */
export function compareResources(a: string, b: string): number {
  return tierOf(a) - tierOf(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Groups resources into tiers in restore order; each inner list is sorted and non-empty. */
export function restoreTiers(resources: Iterable<string>): string[][] {
  const sorted = [...new Set(resources)].sort(compareResources);
  const tiers: string[][] = [];
  let current = -1;
  for (const r of sorted) {
    const tier = tierOf(r);
    if (tier !== current) {
      tiers.push([]);
      current = tier;
    }
    tiers[tiers.length - 1]?.push(r);
  }
  return tiers;
}
