// Turns an object as it was served at backup time into one the API server accepts on create
// and that behaves like the original once the controllers have done their part. Pure: no I/O.
// Every rule says which Kubernetes behaviour it answers.

import { cloneJson } from '../core/json.js';
import type { KubeObject } from '../core/types.js';
import { parseApiVersion } from '../core/types.js';

export interface SanitizeOptions {
  /** Keep every Service nodePort and healthCheckNodePort as backed up (`--preserve-nodeports`). */
  preserveNodePorts: boolean;
  /**
   * Whether this restore creates the PersistentVolume named by a claim's `spec.volumeName`
   * (it is in the snapshot and `skipReason` does not skip it). When given and it answers
   * false, the claim's volumeName is cleared so the claim provisions a new volume instead of
   * waiting forever for one that will never exist. Left out: volumeName is kept.
   */
  volumeRestored?: (pvName: string) => boolean;
}

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Returns a deep copy of `obj` ready to create; `obj` itself is not modified. */
export function sanitize(obj: KubeObject, opts: SanitizeOptions): KubeObject {
  return sanitizeInPlace(cloneJson(obj), opts);
}

/**
 * `sanitize` for an object the caller owns (just parsed, never shared): changes and returns
 * it without the deep copy, which on a large restore costs as much as the parsing.
 */
export function sanitizeInPlace(out: KubeObject, opts: SanitizeOptions): KubeObject {
  // Kind rules run first: the Service rule reads managedFields, which the metadata rule drops.
  if (isKind(out, '', 'Service')) sanitizeService(out, opts.preserveNodePorts);
  else if (isKind(out, '', 'Pod')) sanitizePod(out);
  else if (isKind(out, '', 'PersistentVolumeClaim')) sanitizeClaim(out, opts.volumeRestored);
  else if (isKind(out, '', 'PersistentVolume')) sanitizeVolume(out);
  else if (isKind(out, '', 'ServiceAccount')) sanitizeServiceAccount(out);
  else if (isKind(out, '', 'Secret')) sanitizeTokenSecret(out);
  else if (isKind(out, '', 'Namespace')) sanitizeNamespace(out);
  else if (isKind(out, 'batch', 'Job')) sanitizeJob(out);
  resetMetadataAndStatus(out);
  return out;
}

// ---- every object ----

/** Metadata the API server assigns; meaningless or rejected when sent on create. */
const SERVER_SET_METADATA = [
  // A create carrying resourceVersion is rejected; uid is assigned anew.
  'uid',
  'resourceVersion',
  // Assigned by the server for the new object; the old values only mislead.
  'generation',
  'creationTimestamp',
  // An object backed up mid-deletion is restored as a live one.
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  // Removed from the API in 1.20; never meaningful to send.
  'selfLink',
  // Field ownership: the server replaces it on create anyway. The backup's owners are given
  // back by a patch after the create (ownership.ts), minus the fields the restore changed.
  'managedFields',
  // Owner references name owners by UID. The restored owner gets a new UID, so the
  // garbage collector finds no owner with the old UID and deletes the restored object.
  // Controllers re-adopt their dependents by selector and write fresh references.
  'ownerReferences',
] as const;

function resetMetadataAndStatus(obj: KubeObject): void {
  for (const key of SERVER_SET_METADATA) delete obj.metadata[key];
  // Status is observed state of the old cluster; the server ignores it on create for types
  // with a status subresource and the controllers re-compute it.
  delete obj.status;
}

// ---- Service ----

function sanitizeService(svc: KubeObject, preserveNodePorts: boolean): void {
  const spec = asRecord(svc.spec);
  // ExternalName Services are a DNS alias: no cluster IP, no node ports to clear.
  if (!spec || spec.type === 'ExternalName') return;
  // Cluster IPs were allocated from the old cluster's service range: in another cluster they
  // may be out of range, in this one taken ("provided IP is already allocated"). A headless
  // Service ('None') asked for no IP, which must be kept or it would get one.
  if (spec.clusterIP !== 'None') {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  }
  if (preserveNodePorts) return;
  // Auto-assigned node ports clash ("port is already allocated") with whatever took them
  // since; explicitly chosen ones are part of the user's intent and are kept.
  const explicit = explicitNodePorts(svc);
  for (const port of asArray(spec.ports)) {
    const p = asRecord(port);
    if (p && !explicit.isExplicit(p)) delete p.nodePort;
  }
  // The health-check port of an externalTrafficPolicy=Local LoadBalancer is allocated from
  // the same range, with the same clash.
  if (!explicit.healthCheckNodePort) delete spec.healthCheckNodePort;
}

/** Field managers that allocate or copy, never choose: their ownership says nothing of intent. */
const CONTROL_PLANE_MANAGERS = new Set(['kube-apiserver', 'kube-controller-manager']);

interface ExplicitPorts {
  isExplicit(port: Record<string, unknown>): boolean;
  healthCheckNodePort: boolean;
}

/**
 * Which node ports a user set. Two witnesses, as Velero and crane use: the last-applied
 * annotation of client-side `kubectl apply`, and managedFields, where a manager that sent a
 * nodePort owns `f:nodePort` (ports the server allocated are owned by nobody).
 */
export function explicitNodePorts(svc: KubeObject): ExplicitPorts {
  const keys = new Set<string>();
  let healthCheckNodePort = false;

  const applied = parseJson(svc.metadata.annotations?.[LAST_APPLIED_ANNOTATION]);
  const appliedSpec = asRecord(asRecord(applied)?.spec);
  if (appliedSpec) {
    for (const port of asArray(appliedSpec.ports)) {
      const p = asRecord(port);
      if (p && Number(p.nodePort) > 0) keys.add(portKey(p));
    }
    if (Number(appliedSpec.healthCheckNodePort) > 0) healthCheckNodePort = true;
  }

  for (const entry of svc.metadata.managedFields ?? []) {
    const e = asRecord(entry);
    if (!e || e.subresource || CONTROL_PLANE_MANAGERS.has(String(e.manager))) continue;
    const fspec = asRecord(asRecord(e.fieldsV1)?.['f:spec']);
    if (!fspec) continue;
    if ('f:healthCheckNodePort' in fspec) healthCheckNodePort = true;
    for (const [k, v] of Object.entries(asRecord(fspec['f:ports']) ?? {})) {
      // List items are keyed by their merge keys: k:{"port":80,"protocol":"TCP"}.
      if (!k.startsWith('k:') || !asRecord(v)?.['f:nodePort']) continue;
      const p = asRecord(parseJson(k.slice(2)));
      if (p) keys.add(portKey({ port: p.port, protocol: p.protocol }));
    }
  }

  return {
    isExplicit: (p) =>
      keys.has(portKey({ port: p.port, protocol: p.protocol })) ||
      (typeof p.name === 'string' && p.name !== '' && keys.has(`name:${p.name}`)),
    healthCheckNodePort,
  };
}

function portKey(p: Record<string, unknown>): string {
  // A named port is identified by its name; otherwise by port and protocol (TCP by default).
  if (typeof p.name === 'string' && p.name !== '') return `name:${p.name}`;
  return `port:${Number(p.port)}/${typeof p.protocol === 'string' ? p.protocol : 'TCP'}`;
}

// ---- Pod ----

function sanitizePod(pod: KubeObject): void {
  const spec = asRecord(pod.spec);
  if (!spec) return;
  // nodeName binds the Pod to a node of the old cluster, bypassing the scheduler; that node
  // may not exist (the Pod would sit Pending) or lack room.
  delete spec.nodeName;
  // The Priority admission plugin derives both from the PriorityClass and rejects a create
  // whose values differ from the class's current ones.
  delete spec.priority;
  delete spec.preemptionPolicy;
  // Ephemeral (debug) containers are forbidden on create; they are added via a subresource.
  delete spec.ephemeralContainers;
  // Service-account token volumes were injected by the ServiceAccount admission plugin, not
  // written by the user. The legacy `<sa>-token-xxxxx` Secret volume names a Secret we skip
  // (the Pod would never start); the projected `kube-api-access-*` volume would be accepted
  // (admission sees the prefix and adds none) but it freezes the old automount decision.
  // Dropping both lets admission inject one exactly as on the original create.
  const saName =
    [spec.serviceAccountName, spec.serviceAccount].find((n) => typeof n === 'string') ?? 'default';
  const dropped = new Set<string>();
  const volumes = asArray(spec.volumes).filter((v) => {
    const vol = asRecord(v);
    if (!vol || !isInjectedTokenVolume(vol, saName)) return true;
    dropped.add(String(vol.name));
    return false;
  });
  if (dropped.size === 0) return;
  spec.volumes = volumes;
  if (volumes.length === 0) delete spec.volumes;
  for (const list of ['initContainers', 'containers']) {
    for (const c of asArray(spec[list])) {
      const container = asRecord(c);
      if (!container || !Array.isArray(container.volumeMounts)) continue;
      const mounts = container.volumeMounts.filter((m) => !dropped.has(String(asRecord(m)?.name)));
      if (mounts.length > 0) container.volumeMounts = mounts;
      else delete container.volumeMounts;
    }
  }
}

function isInjectedTokenVolume(vol: Record<string, unknown>, saName: string): boolean {
  const name = String(vol.name);
  if (name.startsWith('kube-api-access-')) {
    const sources = asArray(asRecord(vol.projected)?.sources);
    return sources.some((s) => asRecord(s)?.serviceAccountToken !== undefined);
  }
  const secretName = asRecord(vol.secret)?.secretName;
  return typeof secretName === 'string' && isGeneratedTokenSecretName(secretName, saName);
}

/** `<sa>-token-xxxxx`: the name the token controller gave the Secrets it generated (before 1.24). */
export function isGeneratedTokenSecretName(secretName: string, saName: string): boolean {
  const prefix = `${saName}-token-`;
  return (
    secretName.startsWith(prefix) &&
    /^[bcdfghjklmnpqrstvwxz2456789]{5}$/.test(secretName.slice(prefix.length))
  );
}

// ---- PersistentVolumeClaim / PersistentVolume ----

/** Annotations the PV controller and scheduler write while binding a claim. */
const CLAIM_BINDING_ANNOTATIONS = [
  // With bind-completed the PV controller treats the claim as bound; if its volume's claimRef
  // no longer carries the claim's UID the claim goes Lost instead of binding again.
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
  // Which provisioner should provision it: re-derived from the StorageClass of this cluster.
  'volume.beta.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/storage-provisioner',
  // A node of the old cluster chosen by the scheduler (WaitForFirstConsumer); provisioning
  // would wait for that node forever.
  'volume.kubernetes.io/selected-node',
];

function sanitizeClaim(pvc: KubeObject, volumeRestored?: (pvName: string) => boolean): void {
  deleteAnnotations(pvc, CLAIM_BINDING_ANNOTATIONS);
  const spec = asRecord(pvc.spec);
  // A claim naming a volume binds to that volume only. When the volume is not restored
  // (e.g. a dynamically provisioned one with reclaim policy Delete), let it provision anew.
  if (spec && typeof spec.volumeName === 'string' && volumeRestored?.(spec.volumeName) === false) {
    delete spec.volumeName;
  }
}

function sanitizeVolume(pv: KubeObject): void {
  // Written by the PV controller when it bound the volume; stale for the new claim.
  deleteAnnotations(pv, ['pv.kubernetes.io/bound-by-controller']);
  const claimRef = asRecord(asRecord(pv.spec)?.claimRef);
  // The claimRef keeps namespace/name so the restored claim binds to this volume (pre-bound),
  // but the old claim's UID would make the volume look bound to a claim that is gone
  // (Released), and a resourceVersion of another object means nothing.
  if (claimRef) {
    delete claimRef.uid;
    delete claimRef.resourceVersion;
  }
}

// ---- ServiceAccount / token Secret ----

function sanitizeServiceAccount(sa: KubeObject): void {
  // The `secrets` list of an old cluster names its generated token Secrets, which the
  // restore skips; references to Secrets that will not exist are dropped.
  if (!Array.isArray(sa.secrets)) return;
  const secrets = sa.secrets.filter((s) => {
    const name = asRecord(s)?.name;
    return !(typeof name === 'string' && isGeneratedTokenSecretName(name, sa.metadata.name));
  });
  if (secrets.length > 0) sa.secrets = secrets;
  else delete sa.secrets;
}

function sanitizeTokenSecret(secret: KubeObject): void {
  if (secret.type !== 'kubernetes.io/service-account-token') return;
  // A token Secret the user created (generated ones are skipped): the token controller fills
  // it in for the ServiceAccount it names. It deletes a Secret whose service-account.uid
  // annotation names another ServiceAccount incarnation, and the old token was signed for the
  // old ServiceAccount UID, so both go and the controller issues a fresh token.
  deleteAnnotations(secret, ['kubernetes.io/service-account.uid']);
  const data = asRecord(secret.data);
  if (data) {
    for (const key of ['token', 'ca.crt', 'namespace']) delete data[key];
    if (Object.keys(data).length === 0) delete secret.data;
  }
}

// ---- Namespace ----

function sanitizeNamespace(ns: KubeObject): void {
  const spec = asRecord(ns.spec);
  if (!spec) return;
  // The server adds the `kubernetes` finalizer to every new Namespace; finalizers of other
  // systems would block deletion forever in a cluster without them, and where those systems
  // run they add their own again.
  delete spec.finalizers;
  if (Object.keys(spec).length === 0) delete ns.spec;
}

// ---- Job ----

/** Labels holding the Job's UID, which the server generates a selector from. */
export const JOB_UID_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid'];

function sanitizeJob(job: KubeObject): void {
  const spec = asRecord(job.spec);
  if (!spec) return;
  // Unless manualSelector is set, the server generates the selector and the template labels
  // from the new Job's UID and rejects a Job whose selector or labels carry another UID. The
  // job-name labels are kept: they hold the Job's name, which a restore keeps.
  const selector = asRecord(spec.selector);
  const matchLabels = asRecord(selector?.matchLabels);
  if (selector && matchLabels) {
    for (const k of JOB_UID_LABELS) delete matchLabels[k];
    if (Object.keys(matchLabels).length === 0) delete selector.matchLabels;
    // Nothing left to select by: let the server generate the selector again, which it only
    // does when manualSelector is unset or false.
    if (isEmptySelector(selector)) {
      delete spec.selector;
      delete spec.manualSelector;
    }
  }
  const template = asRecord(spec.template);
  if (template) deleteLabels(asRecord(template.metadata), JOB_UID_LABELS);
  // The Job's own labels are copied from the template when left empty, so they may hold the
  // old UID too; it matches nothing after the restore.
  deleteLabels(job.metadata, JOB_UID_LABELS);
}

function isEmptySelector(selector: Record<string, unknown>): boolean {
  return (
    Object.keys(asRecord(selector.matchLabels) ?? {}).length === 0 &&
    asArray(selector.matchExpressions).length === 0
  );
}

// ---- helpers shared by the restore modules ----

/** True when `obj` is `kind` in API group `group` ('' for core), at any version. */
export function isKind(
  obj: Pick<KubeObject, 'apiVersion' | 'kind'>,
  group: string,
  kind: string,
): boolean {
  return obj.kind === kind && parseApiVersion(obj.apiVersion).group === group;
}

export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function deleteAnnotations(obj: KubeObject, keys: Iterable<string>): void {
  const annotations = obj.metadata.annotations;
  if (!annotations) return;
  for (const k of keys) delete annotations[k];
  if (Object.keys(annotations).length === 0) delete obj.metadata.annotations;
}

function deleteLabels(meta: Record<string, unknown> | undefined, keys: Iterable<string>): void {
  const labels = asRecord(meta?.labels);
  if (!meta || !labels) return;
  for (const k of keys) delete labels[k];
  if (Object.keys(labels).length === 0) delete meta.labels;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // A malformed annotation is no evidence of anything.
    return undefined;
  }
}
