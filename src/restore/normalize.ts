// Comparing a backed-up object with the one that exists in the cluster: both are normalised
// to what a user chose (labels, annotations, spec, data, …), leaving out what the server or
// the controllers assign or record, so that `exists (identical)` means it and
// `exists (differs)` names real differences. Pure: no I/O.

import { cloneJson } from '../core/json.js';
import type { KubeObject } from '../core/types.js';
import { BACKUP_NAME_LABEL, RESTORE_NAME_LABEL } from '../snapshots/velero/labels.js';
import {
  asArray,
  asRecord,
  deleteAnnotations,
  isKind,
  LAST_APPLIED_ANNOTATION,
  sanitizeInPlace,
} from './sanitize.js';

/**
 * Labels Velero's restore sets on everything it creates (snapshots/velero/labels.ts): they
 * name a backup and a restore, not what the user chose, and Velero's own comparison with an
 * existing object ignores them too.
 */
const VELERO_RESTORE_LABELS = [BACKUP_NAME_LABEL, RESTORE_NAME_LABEL];

/** Annotations written by the control plane, or copies of what is compared anyway. */
const SERVER_ANNOTATIONS = [
  // A copy of the last applied manifest: its fields are compared where they live; the copy
  // differs whenever the other object was made by another tool.
  LAST_APPLIED_ANNOTATION,
  // Rollout bookkeeping of the Deployment and DaemonSet controllers.
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.daemonset.template.generation',
  // Written by the endpoints, token, Job and CronJob controllers.
  'endpoints.kubernetes.io/last-change-trigger-time',
  'kubernetes.io/service-account.uid',
  'batch.kubernetes.io/job-tracking',
  'batch.kubernetes.io/cronjob-scheduled-timestamp',
  // Status of autoscaling/v2 HPAs as served through autoscaling/v1.
  'autoscaling.alpha.kubernetes.io/conditions',
  'autoscaling.alpha.kubernetes.io/current-metrics',
];

/**
 * The part of `obj` a user chose. Starts from what a restore would create (sanitize: no
 * server-set metadata, status, owner references, allocated cluster IPs, node binding, injected
 * token volumes, Job UID labels, binding annotations) and also leaves out:
 * generateName, server-written annotations, every Service node port (allocated unless chosen,
 * and a chosen one was allocated to the other object just the same), and a claim's volumeName
 * (the volume it was bound to, often dynamically provisioned), and an aggregated ClusterRole's
 * computed rules.
 */
export function normalizeForCompare(obj: KubeObject): unknown {
  return normalizeInPlace(cloneJson(obj));
}

/** `normalizeForCompare` for an object the caller owns: changed and returned, not copied. */
export function normalizeInPlace(obj: KubeObject): unknown {
  const out = sanitizeInPlace(obj, { preserveNodePorts: false });
  delete out.metadata.generateName;
  deleteAnnotations(out, SERVER_ANNOTATIONS);
  const labels = out.metadata.labels;
  if (labels) {
    for (const k of VELERO_RESTORE_LABELS) delete labels[k];
    if (Object.keys(labels).length === 0) delete out.metadata.labels;
  }
  if (isKind(out, '', 'Service')) {
    const spec = asRecord(out.spec);
    if (spec) {
      delete spec.healthCheckNodePort;
      for (const p of asArray(spec.ports)) delete asRecord(p)?.nodePort;
    }
  } else if (isKind(out, '', 'PersistentVolumeClaim')) {
    delete asRecord(out.spec)?.volumeName;
  } else if (
    isKind(out, 'rbac.authorization.k8s.io', 'ClusterRole') &&
    out.aggregationRule !== undefined
  ) {
    // Computed by the aggregation controller; a snapshot stores the rule, not the rules.
    delete out.rules;
  }
  return out;
}

export interface FieldDiff {
  /** Where: `spec.replicas`, `data.key`, `metadata.labels["app.kubernetes.io/name"]`, `spec.ports[0].port`. */
  path: string;
  /** The value in `a`; undefined when `a` does not have the field. */
  before: unknown;
  /** The value in `b`; undefined when `b` does not have the field. */
  after: unknown;
}

/** What a Secret's values are shown as: their key names are printed, never their values. */
export const REDACTED = '(changed)';

/**
 * Field-level differences from `a` to `b` (typically both from normalizeForCompare), in a
 * stable order. Objects are compared key by key and arrays index by index; null and a
 * missing field are the same. For Secrets, values under data and stringData (and the
 * last-applied annotation, which holds them in clear) are shown as `(changed)`.
 */
export function diffObjects(a: unknown, b: unknown): FieldDiff[] {
  const out: FieldDiff[] = [];
  walk(a, b, [], isSecret(a) || isSecret(b), out);
  return out;
}

type Path = (string | number)[];

function walk(a: unknown, b: unknown, path: Path, secret: boolean, out: FieldDiff[]): void {
  if (a === null) a = undefined;
  if (b === null) b = undefined;
  if (a === b) return;
  const ra = asRecord(a);
  const rb = asRecord(b);
  if (ra && rb) {
    const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
    for (const k of keys) walk(ra[k], rb[k], [...path, k], secret, out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++)
      walk(a[i], b[i], [...path, i], secret, out);
    return;
  }
  out.push({
    path: formatPath(path),
    before: secret ? redact(a, path) : a,
    after: secret ? redact(b, path) : b,
  });
}

/** `value` found at `path` of a Secret, with every secret value in it replaced by REDACTED. */
function redact(value: unknown, path: Path): unknown {
  if (value === undefined) return undefined;
  if (isSecretValue(path, value)) return REDACTED;
  const record = asRecord(value);
  if (record) {
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, redact(v, [...path, k])]));
  }
  if (Array.isArray(value)) return value.map((v, i) => redact(v, [...path, i]));
  return value;
}

function isSecretValue(path: Path, value: unknown): boolean {
  const [first, second, third] = path;
  return (
    ((first === 'data' || first === 'stringData') && (path.length >= 2 || !asRecord(value))) ||
    (first === 'metadata' && second === 'annotations' && third === LAST_APPLIED_ANNOTATION)
  );
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function formatPath(path: (string | number)[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (IDENTIFIER.test(seg)) s += s === '' ? seg : `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s === '' ? '(object)' : s;
}

function isSecret(v: unknown): boolean {
  const r = asRecord(v);
  return r?.kind === 'Secret' && r.apiVersion === 'v1';
}
