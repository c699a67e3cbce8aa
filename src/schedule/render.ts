// What `schedule create` puts into the cluster, decided in pure functions: the ServiceAccount,
// read-only RBAC scoped to what the schedule's backup reads, the Secret with the storage
// credentials, and the CronJob whose container runs this same binary. The runner applies
// the result; `--dry-run` prints it.

import type { NamespaceRights } from '../backup/access.js';
import { UserError } from '../core/errors.js';
import { isDns1123Label } from '../core/names.js';
import { type KubeObject, qualifiedResource, type Selection } from '../core/types.js';
import type { DiscoveredType } from '../kube/discovery.js';
import { KEEP_RULES, type KeepRule } from '../snapshots/retention.js';
import { SCHEDULE_LABEL } from '../snapshots/scheduled.js';
import { formatS3Url, type S3Location } from '../storage/s3-location.js';
import { VERSION } from '../version.js';
import { coveredNamespaces, type PolicyRule, type RbacPlan, rbacRules } from './rbac.js';

export { coveredNamespaces, type PolicyRule, type RbacPlan, rbacRules } from './rbac.js';

/** The image `--image` defaults to: the Dockerfile's image of this release. */
export const DEFAULT_IMAGE = `kubectl-snapshot/kubectl-snapshot:v${VERSION}`;
/** Where the Dockerfile puts the single executable. */
export const IMAGE_BINARY = '/kubectl-snapshot';
export const DEFAULT_INSTALL_NAMESPACE = 'kubectl-snapshot';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kubectl-snapshot';
export const SCHEDULE_NAMESPACE_LABEL = 'kubectl-snapshot/schedule-namespace';
/** Annotation on the CronJob holding the schedule's options (never credentials) as JSON. */
export const SPEC_ANNOTATION = 'kubectl-snapshot/spec';
export const CA_MOUNT_DIR = '/etc/kubectl-snapshot/ca';
export const CA_KEY = 'ca.pem';

export const STARTING_DEADLINE_SECONDS = 3600;
export const SUCCESSFUL_JOBS_HISTORY = 3;
export const FAILED_JOBS_HISTORY = 3;
export const BACKOFF_LIMIT = 1;
/** The UID/GID of distroless's `nonroot` user, which the Dockerfile runs as. */
export const RUN_AS = 65532;

/** CronJob names are at most 52 characters: the controller appends an 11-character suffix. */
export const MAX_SCHEDULE_NAME = 52;

/** The credential variables copied into the Secret, in this order. */
export const CREDENTIAL_VARS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

/**
 * The Secret's key (and so, through envFrom, the container's variable) holding the Ed25519
 * private key (PEM) that signs each snapshot; `schedule exec --sign` reads it from there.
 */
export const SIGN_KEY_VAR = 'KUBECTL_SNAPSHOT_SIGN_KEY';

/** A schedule's options: everything the CronJob runs with except credentials. */
export interface ScheduleSpec {
  name: string;
  installNamespace: string;
  /** Cron expression (validated by parseCron). */
  schedule: string;
  timeZone?: string;
  suspend: boolean;
  image: string;
  /** Where snapshots go; the URL written into the container's arguments is derived from it. */
  storage: S3Location;
  selection: Selection;
  /** `--ttl` as given, e.g. `720h`. */
  ttl?: string;
  /** Extra labels recorded on each snapshot (the schedule label is always added). */
  labels: Record<string, string>;
  /**
   * age recipients (public keys) each snapshot is encrypted to. Public, so they travel as
   * arguments; the schedule never holds a key that decrypts what it wrote.
   */
  encryptTo: string[];
  /** Each snapshot is signed with the private key in the Secret (SIGN_KEY_VAR). */
  sign?: boolean;
  keep: Partial<Record<KeepRule, number>>;
  /**
   * No ClusterRole or ClusterRoleBinding: Roles in the backed-up namespaces only, for a
   * creator who is admin of those namespaces and has no cluster rights (the backup then
   * leaves out cluster-scoped objects, as it does for that user).
   */
  namespacedOnly?: boolean;
}

export interface RenderInput {
  spec: ScheduleSpec;
  /** The server's resource types (discovery), to scope the RBAC rules. */
  types: DiscoveredType[];
  /** Environment variables for the Secret, e.g. AWS_ACCESS_KEY_ID. */
  credentials: Record<string, string>;
  /** PEM of the storage's private CA when the location has caFile. */
  caPem?: string;
  /** With spec.sign: the signing key's PEM, kept only in the Secret (never in args or env). */
  signingKeyPem?: string;
  /**
   * With spec.namespacedOnly: the creator's rules in each backed-up namespace (a
   * SelfSubjectRulesReview each). A Role may grant only what its creator holds.
   */
  creatorRights?: (NamespaceRights | undefined)[];
  /** Print-safe: Secret values replaced by `<redacted>` (not valid base64, so it cannot be applied). */
  redact?: boolean;
}

export interface RenderedSchedule {
  /** The install namespace; created only when it does not exist. */
  namespace: KubeObject;
  /** In apply order; the CronJob last, so it never runs before its rights exist. */
  objects: KubeObject[];
  rbac: RbacPlan;
}

// ---- names ------------------------------------------------------------------------------

export function validateScheduleName(name: string): void {
  if (!isDns1123Label(name) || name.length > MAX_SCHEDULE_NAME) {
    throw new UserError(
      `invalid schedule name "${name}"`,
      `use at most ${MAX_SCHEDULE_NAME} lowercase letters, digits and '-', starting and ending with a letter or digit (it names the CronJob)`,
    );
  }
}

export const names = (name: string, installNamespace: string) => ({
  cronJob: name,
  serviceAccount: `kubectl-snapshot-${name}`,
  secret: `kubectl-snapshot-${name}`,
  caConfigMap: `kubectl-snapshot-${name}-ca`,
  /** Roles, RoleBindings, the ClusterRole and its binding: unique across install namespaces. */
  rbac: `kubectl-snapshot:${installNamespace}:${name}`,
});

/** Labels on every object a schedule owns; `schedule delete` finds them by these. */
export function scheduleLabels(name: string, installNamespace: string): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [SCHEDULE_LABEL]: name,
    [SCHEDULE_NAMESPACE_LABEL]: installNamespace,
  };
}

export function scheduleSelector(name: string, installNamespace: string): string {
  return Object.entries(scheduleLabels(name, installNamespace))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

// ---- the container's command line -------------------------------------------------------

/** The storage URL as the container sees it: a caFile points into the mounted ConfigMap. */
export function containerStorageUrl(loc: S3Location, hasCa: boolean): string {
  const { kind: _kind, ...rest } = loc;
  return formatS3Url({ ...rest, caFile: hasCa ? `${CA_MOUNT_DIR}/${CA_KEY}` : undefined });
}

/** Arguments of `kubectl-snapshot schedule exec`: the backup, then the prune. */
export function execArgs(spec: ScheduleSpec, hasCa = spec.storage.caFile !== undefined): string[] {
  const sel = spec.selection;
  const args = ['schedule', 'exec', spec.name, '--no-progress'];
  args.push('--storage', containerStorageUrl(spec.storage, hasCa));
  if (sel.allNamespaces) args.push('--all-namespaces');
  for (const ns of coveredNamespaces(sel)) args.push('--namespace', ns);
  for (const ns of [...new Set(sel.excludeNamespaces)].sort())
    if (sel.allNamespaces) args.push('--exclude-namespace', ns);
  if (sel.labelSelector !== undefined) args.push('--selector', sel.labelSelector);
  if (sel.includeResources.length > 0)
    args.push('--include-resources', sel.includeResources.join(','));
  if (sel.excludeResources.length > 0)
    args.push('--exclude-resources', sel.excludeResources.join(','));
  args.push('--include-cluster-resources', sel.includeClusterResources);
  if (spec.ttl) args.push('--ttl', spec.ttl);
  for (const [k, v] of Object.entries(spec.labels).sort()) args.push('--labels', `${k}=${v}`);
  for (const r of spec.encryptTo) args.push('--encrypt-to', r);
  if (spec.sign) args.push('--sign');
  for (const r of KEEP_RULES) {
    const n = spec.keep[r];
    if (n !== undefined && n > 0) args.push(`--keep-${r}`, String(n));
  }
  // Retention counts days in the schedule's zone; without one, in UTC like the controller.
  args.push('--time-zone', spec.timeZone ?? 'UTC');
  return args;
}

// ---- the manifests ----------------------------------------------------------------------

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The options kept on the CronJob (SPEC_ANNOTATION) for list and describe. */
export function specAnnotation(spec: ScheduleSpec): string {
  const { storage, ...rest } = spec;
  const { kind: _kind, ...loc } = storage;
  return JSON.stringify({ ...rest, storage: formatS3Url(loc) });
}

export function renderSchedule(input: RenderInput): RenderedSchedule {
  const { spec } = input;
  const n = names(spec.name, spec.installNamespace);
  const labels = scheduleLabels(spec.name, spec.installNamespace);
  const ns = spec.installNamespace;
  const meta = (name: string, namespace?: string) => ({
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    labels: { ...labels },
  });
  const rbac = rbacRules(spec.selection, input.types, {
    namespacedOnly: spec.namespacedOnly === true,
    ...(input.creatorRights ? { creatorRights: input.creatorRights } : {}),
  });
  const subject = { kind: 'ServiceAccount', name: n.serviceAccount, namespace: ns };
  const hasCa = input.caPem !== undefined;

  const objects: KubeObject[] = [];
  objects.push({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(n.serviceAccount, ns),
  });
  const data: Record<string, string> = {};
  for (const v of CREDENTIAL_VARS) {
    const value = input.credentials[v];
    if (value !== undefined && value !== '') data[v] = input.redact ? '<redacted>' : b64(value);
  }
  if (spec.sign) {
    if (input.signingKeyPem === undefined) throw new Error('a signed schedule needs its key');
    data[SIGN_KEY_VAR] = input.redact ? '<redacted>' : b64(input.signingKeyPem);
  }
  objects.push({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(n.secret, ns),
    type: 'Opaque',
    data,
  });
  if (hasCa) {
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(n.caConfigMap, ns),
      data: { [CA_KEY]: input.caPem as string },
    });
  }
  // A namespaced-only schedule has no cluster rules, and so no ClusterRole to bind.
  if (!spec.namespacedOnly)
    objects.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta(n.rbac),
      rules: rbac.clusterRules,
    });
  if (!spec.namespacedOnly)
    objects.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(n.rbac),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: n.rbac },
      subjects: [subject],
    });
  for (const target of rbac.namespaces) {
    objects.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(n.rbac, target),
      rules: rbac.namespaceRules,
    });
    objects.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(n.rbac, target),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: n.rbac },
      subjects: [subject],
    });
  }

  const volumes: unknown[] = [{ name: 'tmp', emptyDir: {} }];
  const mounts: unknown[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (hasCa) {
    volumes.push({ name: 'storage-ca', configMap: { name: n.caConfigMap } });
    mounts.push({ name: 'storage-ca', mountPath: CA_MOUNT_DIR, readOnly: true });
  }
  objects.push({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { ...meta(n.cronJob, ns), annotations: { [SPEC_ANNOTATION]: specAnnotation(spec) } },
    spec: {
      schedule: spec.schedule,
      ...(spec.timeZone ? { timeZone: spec.timeZone } : {}),
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: STARTING_DEADLINE_SECONDS,
      successfulJobsHistoryLimit: SUCCESSFUL_JOBS_HISTORY,
      failedJobsHistoryLimit: FAILED_JOBS_HISTORY,
      suspend: spec.suspend,
      jobTemplate: {
        metadata: { labels: { ...labels } },
        spec: {
          backoffLimit: BACKOFF_LIMIT,
          template: {
            metadata: { labels: { ...labels } },
            spec: {
              serviceAccountName: n.serviceAccount,
              automountServiceAccountToken: true,
              restartPolicy: 'Never',
              securityContext: {
                runAsNonRoot: true,
                runAsUser: RUN_AS,
                runAsGroup: RUN_AS,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              containers: [
                {
                  name: 'snapshot',
                  image: spec.image,
                  command: [IMAGE_BINARY],
                  args: execArgs(spec, hasCa),
                  envFrom: [{ secretRef: { name: n.secret } }],
                  resources: { requests: { cpu: '100m', memory: '128Mi' } },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ['ALL'] },
                  },
                  volumeMounts: mounts,
                },
              ],
              volumes,
            },
          },
        },
      },
    },
  });

  return {
    namespace: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    },
    objects,
    rbac,
  };
}

/** Every verb any rendered rule grants (for checks: must be read-only). */
export function grantedVerbs(rbac: RbacPlan): string[] {
  return [
    ...new Set([...rbac.namespaceRules, ...rbac.clusterRules].flatMap((r) => r.verbs)),
  ].sort();
}

/** `configmaps, deployments.apps, …` of the rules, for describe. */
export function describeRule(r: PolicyRule): string {
  const res = r.apiGroups
    .flatMap((g) => r.resources.map((x) => qualifiedResource({ group: g, resource: x })))
    .join(', ');
  return `${r.verbs.join(',')} ${res}${r.resourceNames ? ` (only ${r.resourceNames.join(', ')})` : ''}`;
}
