// Cluster-scoped objects the control plane owns: it creates them itself (at start, or for
// every Service, node or served API), so a backup of them restores nothing the user made and a
// restore of them can only collide with, or corrupt, what the target cluster made for itself.
// `--include-cluster-resources true` leaves them out when backing up, and a restore leaves them
// out of older snapshots that have them. Pure: reads only the object (or its planning view:
// name, labels, small annotations).

import type { KubeObject } from './types.js';

type Rule = (obj: KubeObject) => string | undefined;

const annotation = (obj: KubeObject, key: string) => obj.metadata.annotations?.[key];
const label = (obj: KubeObject, key: string) => obj.metadata.labels?.[key];

/** Bootstrap RBAC (admin, edit, view, system:*): reconciled by the API server at every start. */
const bootstrapRbac: Rule = (obj) =>
  annotation(obj, 'rbac.authorization.kubernetes.io/autoupdate') === 'true'
    ? 'bootstrap RBAC (rbac.authorization.kubernetes.io/autoupdate): the API server creates and reconciles it'
    : undefined;

/**
 * The rules by qualified resource. Objects of types not named here are the user's, as are
 * those a rule does not match (a ClusterRole an operator installed, a user's PriorityClass).
 */
const RULES: Record<string, Rule> = {
  'clusterroles.rbac.authorization.k8s.io': bootstrapRbac,
  'clusterrolebindings.rbac.authorization.k8s.io': bootstrapRbac,
  // The aggregator makes one for every group version the API server itself serves; a
  // restored one would claim a version of the target cluster's built-in API.
  'apiservices.apiregistration.k8s.io': (obj) =>
    label(obj, 'kube-aggregator.kubernetes.io/automanaged') !== undefined
      ? 'automanaged APIService (kube-aggregator.kubernetes.io/automanaged): the aggregator makes one per built-in group version'
      : undefined,
  // Allocations of Service IPs: restored Services get theirs from the target cluster, and a
  // restored allocation would hold an address for a Service that is not there.
  'ipaddresses.networking.k8s.io': () =>
    'a Service IP allocation: the API server allocates addresses for the Services it has',
  'servicecidrs.networking.k8s.io': (obj) =>
    obj.metadata.name === 'kubernetes'
      ? 'the default ServiceCIDR: the API server makes it from its --service-cluster-ip-range'
      : undefined,
  // API Priority and Fairness: the mandatory and suggested configuration is kept up to date by
  // the API server (it overwrites what differs unless the annotation says false).
  'flowschemas.flowcontrol.apiserver.k8s.io': (obj) => apfDefault(obj),
  'prioritylevelconfigurations.flowcontrol.apiserver.k8s.io': (obj) => apfDefault(obj),
  // Bound to machines of this cluster: they describe nodes and what is attached to them.
  nodes: () => 'a node of this cluster: nodes register themselves',
  'csinodes.storage.k8s.io': () => 'describes a node of this cluster: written by its kubelet',
  'volumeattachments.storage.k8s.io': () =>
    'attaches a volume to a node of this cluster: made by the attach/detach controller',
  // A request to this cluster's signers, approved or not here; meaningless in another cluster.
  'certificatesigningrequests.certificates.k8s.io': () =>
    "a certificate request to this cluster's signers",
  'priorityclasses.scheduling.k8s.io': (obj) =>
    obj.metadata.name.startsWith('system-')
      ? 'a built-in PriorityClass: the API server creates system-* classes'
      : undefined,
};

function apfDefault(obj: KubeObject): string | undefined {
  return annotation(obj, 'apf.kubernetes.io/autoupdate-spec') === 'true'
    ? 'API Priority and Fairness default (apf.kubernetes.io/autoupdate-spec): the API server maintains it'
    : undefined;
}

/** Why the control plane owns this cluster-scoped object, or undefined when it is the user's. */
export function controlPlaneOwned(resource: string, obj: KubeObject): string | undefined {
  return RULES[resource]?.(obj);
}
