// Which backed-up objects a restore must not create because the cluster makes them itself
// (or because creating them again would do harm). Pure: no I/O.

import type { KubeObject } from '../core/types.js';
import { asArray, asRecord, isGeneratedTokenSecretName, isKind } from './sanitize.js';

/**
 * What `skipReason` needs to know about the rest of the restore. All names are as in the
 * snapshot (before namespace mapping).
 */
export interface SkipContext {
  /**
   * Whether the object is part of this restore's selection (in the snapshot and selected by
   * the filters), whether or not it will be created itself: a Pod of a ReplicaSet of a
   * restored Deployment is re-created by that Deployment even though the ReplicaSet is
   * skipped too. Match on API group and kind, not version (owner references may name another
   * version than the snapshot holds). `namespace` is the dependent's namespace; ignore it for
   * cluster-scoped kinds.
   */
  restoring: (
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ) => boolean;
  /**
   * For a Service of this restore: whether it has a non-empty `spec.selector` (the endpoints
   * controller then owns its Endpoints). Undefined when the Service is not in the restore or
   * unknown; then only the Endpoints' own labels decide. Optional.
   */
  serviceHasSelector?: (namespace: string, name: string) => boolean | undefined;
}

/** A reason no object of this kind is ever created, whatever its contents. */
export function kindSkipReason(t: Pick<KubeObject, 'apiVersion' | 'kind'>): string | undefined {
  // Events are a record of what happened in the old cluster, not state; they also expire.
  if (isKind(t, '', 'Event') || isKind(t, 'events.k8s.io', 'Event')) {
    return 'event: history of the old cluster, not state';
  }
  // Metrics are computed live by metrics-server and cannot be created.
  if (t.apiVersion.startsWith('metrics.k8s.io/')) return 'metrics are read-only';
  return undefined;
}

/** A human reason when `obj` must not be created; undefined when it should be restored. */
export function skipReason(obj: KubeObject, ctx: SkipContext): string | undefined {
  const { name, namespace } = obj.metadata;
  const labels = obj.metadata.labels ?? {};
  const annotations = obj.metadata.annotations ?? {};

  const byKind = kindSkipReason(obj);
  if (byKind) return byKind;

  if (isKind(obj, '', 'Pod')) {
    // The kubelet creates the mirror of a static Pod from a file on its node.
    if (annotations['kubernetes.io/config.mirror'] !== undefined) {
      return 'mirror Pod of a static Pod: the kubelet creates it';
    }
    // A finished Pod never runs again; creating it would run it again.
    const phase = asRecord(obj.status)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      return `Pod already finished (${phase}): creating it would run it again`;
    }
  }
  if (isKind(obj, 'batch', 'Job')) {
    const finished = finishedCondition(obj);
    if (finished) return `Job already finished (${finished}): creating it would run it again`;
  }

  const owner = controllerOf(obj);
  if (owner && ctx.restoring(owner.apiVersion, owner.kind, namespace, owner.name)) {
    // Its controller (restored too) creates it again: a Pod of a ReplicaSet, a ReplicaSet of
    // a Deployment, a Job of a CronJob, a ControllerRevision of a StatefulSet, … Restoring
    // it as well would make a duplicate the controller then deletes, or an orphan.
    // Exception: a claim of a StatefulSet's volumeClaimTemplates holds the binding to its
    // volume, and the StatefulSet controller uses an existing claim of the right name.
    // (Claims of generic ephemeral volumes are owned by their Pod and are skipped: the
    // ephemeral-volume controller refuses a claim the Pod does not own.)
    const statefulClaim = isKind(obj, '', 'PersistentVolumeClaim') && owner.kind === 'StatefulSet';
    if (!statefulClaim) return `created by its controller ${owner.kind}/${owner.name}`;
  }

  if (isKind(obj, '', 'Secret') && obj.type === 'kubernetes.io/service-account-token') {
    // Legacy tokens the token controller generated for a ServiceAccount (before 1.24): older
    // clusters generate a new one; newer ones no longer use them. A token Secret the user
    // created by hand is restored (sanitize has the controller re-issue its token).
    const sa = annotations['kubernetes.io/service-account.name'];
    if (sa !== undefined && isGeneratedTokenSecretName(name, sa)) {
      return `token Secret generated for ServiceAccount ${sa}`;
    }
  }
  // Published into every namespace by the root-CA publisher of the control plane.
  if (isKind(obj, '', 'ConfigMap') && name === 'kube-root-ca.crt') {
    return 'published into every namespace by the control plane';
  }
  // Created in every namespace by the ServiceAccount controller, which races our create. A
  // customised one is restored, so a lost race is reported as `exists (differs)`, not hidden.
  if (isKind(obj, '', 'ServiceAccount') && name === 'default' && !isCustomisedDefaultAccount(obj)) {
    return 'created in every namespace by the control plane';
  }

  if (isKind(obj, 'discovery.k8s.io', 'EndpointSlice')) {
    // The EndpointSlice controller (Services with a selector) and the mirroring controller
    // (custom Endpoints, which are restored) maintain these and replace any others.
    const managedBy = labels['endpointslice.kubernetes.io/managed-by'];
    if (
      managedBy === 'endpointslice-controller.k8s.io' ||
      managedBy === 'endpointslicemirroring-controller.k8s.io'
    ) {
      return `managed by ${managedBy}`;
    }
  }
  if (isKind(obj, '', 'Endpoints')) {
    // The endpoints controller keeps the Endpoints of a Service with a selector and labels
    // them skip-mirror (1.19+). Endpoints of a Service without a selector are the user's.
    const hasSelector =
      namespace === undefined ? undefined : ctx.serviceHasSelector?.(namespace, name);
    if (
      hasSelector === true ||
      (hasSelector === undefined && labels['endpointslice.kubernetes.io/skip-mirror'] === 'true')
    ) {
      return `maintained by the endpoints controller for Service ${name}`;
    }
  }
  // Node heartbeats, renewed by each kubelet every few seconds.
  if (isKind(obj, 'coordination.k8s.io', 'Lease') && namespace === 'kube-node-lease') {
    return 'node heartbeat: renewed by the kubelet';
  }
  if (isKind(obj, '', 'PersistentVolume')) {
    // A dynamically provisioned volume with reclaim policy Delete was deleted with its claim,
    // disk and all; a restored PV would point at a disk that is gone (or belongs to another
    // cluster). Volume data is not in snapshots: its claim provisions a new, empty volume.
    const policy = asRecord(obj.spec)?.persistentVolumeReclaimPolicy;
    if (policy === 'Delete')
      return 'volume with reclaim policy Delete: its claim provisions a new one';
  }
  return undefined;
}

/** The owner reference marked controller, if any. */
function controllerOf(
  obj: KubeObject,
): { apiVersion: string; kind: string; name: string } | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** 'Complete' or 'Failed' when a Job has that condition True. */
function finishedCondition(job: KubeObject): string | undefined {
  for (const c of asArray(asRecord(job.status)?.conditions)) {
    const cond = asRecord(c);
    if (cond?.status === 'True' && (cond.type === 'Complete' || cond.type === 'Failed')) {
      return cond.type;
    }
  }
  return undefined;
}

/** A `default` ServiceAccount carrying settings the controller would not give it. */
function isCustomisedDefaultAccount(sa: KubeObject): boolean {
  return asArray(sa.imagePullSecrets).length > 0 || sa.automountServiceAccountToken !== undefined;
}
