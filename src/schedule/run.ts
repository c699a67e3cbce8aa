// The thin side of schedules: apply what renderSchedule decided, find and delete what a
// schedule owns, start a Job now, suspend and resume, read status; and `schedule exec`, the
// backup-then-prune that the CronJob's container runs.
import { readFile } from 'node:fs/promises';
import { type BackupDeps, runBackup } from '../backup/run.js';
import { readManifest } from '../catalog/catalog.js';
import { errorMessage, NotFoundError, UserError } from '../core/errors.js';
import type { KubeObject, ResourceType, Selection, SnapshotManifest } from '../core/types.js';
import type { EncryptionKey } from '../crypto/age.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { collectionPath, discover, objectPath } from '../kube/discovery.js';
import { manifestKey, parseKey } from '../storage/layout.js';
import { resolveLocation, type S3Location } from '../storage/locations.js';
import type { ObjectStore } from '../storage/store.js';
import { nextRuns, parseCron } from './cron.js';
import { type PruneResult, runPrune } from './prune.js';
import {
  coveredNamespaces,
  isScheduledSnapshotName,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  names,
  type RenderedSchedule,
  renderSchedule,
  type ScheduleSpec,
  SPEC_ANNOTATION,
  scheduledSnapshotName,
  scheduleSelector,
} from './render.js';
import { type RetentionPolicy, SCHEDULE_LABEL } from './retention.js';

const core = (resource: string, kind: string, namespaced = true): ResourceType => ({
  group: '',
  version: 'v1',
  resource,
  kind,
  namespaced,
});
const rbac = (resource: string, kind: string, namespaced: boolean): ResourceType => ({
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  resource,
  kind,
  namespaced,
});
const batch = (resource: string, kind: string): ResourceType => ({
  group: 'batch',
  version: 'v1',
  resource,
  kind,
  namespaced: true,
});

const TYPES = {
  Namespace: core('namespaces', 'Namespace', false),
  ServiceAccount: core('serviceaccounts', 'ServiceAccount'),
  Secret: core('secrets', 'Secret'),
  ConfigMap: core('configmaps', 'ConfigMap'),
  Pod: core('pods', 'Pod'),
  Job: batch('jobs', 'Job'),
  CronJob: batch('cronjobs', 'CronJob'),
  Role: rbac('roles', 'Role', true),
  RoleBinding: rbac('rolebindings', 'RoleBinding', true),
  ClusterRole: rbac('clusterroles', 'ClusterRole', false),
  ClusterRoleBinding: rbac('clusterrolebindings', 'ClusterRoleBinding', false),
} satisfies Record<string, ResourceType>;
type Kind = keyof typeof TYPES;

function typeOf(kind: string): ResourceType {
  const t = (TYPES as Record<string, ResourceType>)[kind];
  if (!t) throw new Error(`no API path known for kind ${kind}`);
  return t;
}

function pathOf(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  const t = typeOf(obj.kind);
  return objectPath(t, obj.metadata.name, t.namespaced ? obj.metadata.namespace : undefined);
}

/** `role/kubectl-snapshot:ns:name (namespace shop)`, as kubectl prints objects. */
export function objectRef(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  const ns = obj.metadata.namespace;
  return `${obj.kind.toLowerCase()}/${obj.metadata.name}${ns ? ` (namespace ${ns})` : ''}`;
}

const cronJobPath = (name: string, ns: string) => objectPath(TYPES.CronJob, name, ns);

// ---- create -----------------------------------------------------------------------------

export interface ScheduleStorage {
  location: S3Location;
  /** The named location requires encrypted backups. */
  requireEncryption: boolean;
  /** Environment variables for the Secret. */
  credentials: Record<string, string>;
  caPem?: string;
  warnings: string[];
}

/**
 * The storage a schedule writes to and the credentials its Secret gets, from --storage (or
 * KUBECTL_SNAPSHOT_STORAGE / the default location) and the creator's environment. Only S3
 * works from a Pod; a directory would be the container's own throwaway filesystem.
 */
export async function resolveScheduleStorage(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<ScheduleStorage> {
  const loc = await resolveLocation(flag, env);
  if (loc.kind !== 's3') {
    throw new UserError(
      loc.source === 'default'
        ? 'no storage location given: a schedule needs S3 storage that the cluster can reach'
        : `storage location ${loc.url} is a directory: a scheduled backup runs in a Pod, whose files are thrown away`,
      'pass --storage s3://bucket/prefix?endpoint=… (or a named S3 location from "kubectl snapshot location add"), with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set',
    );
  }
  const { s3CredentialsFromEnv } = await import('../storage/s3.js');
  const c = s3CredentialsFromEnv(env);
  const credentials: Record<string, string> = {
    AWS_ACCESS_KEY_ID: c.accessKey,
    AWS_SECRET_ACCESS_KEY: c.secretKey,
  };
  const warnings: string[] = [];
  if (c.sessionToken) {
    credentials.AWS_SESSION_TOKEN = c.sessionToken;
    warnings.push(
      'AWS_SESSION_TOKEN is set: temporary credentials expire, and the schedule fails once they do; prefer long-lived credentials for a dedicated user with access to this bucket only',
    );
  }
  let caPem: string | undefined;
  if (loc.caFile) {
    try {
      caPem = await readFile(loc.caFile, 'utf8');
    } catch (err) {
      throw new UserError(
        `cannot read the storage CA file ${loc.caFile}: ${errorMessage(err)}`,
        'the schedule copies it into a ConfigMap; check caFile= in the storage URL',
      );
    }
  }
  const { url: _u, source: _s, name: _n, requireEncryption, ...location } = loc;
  return {
    location,
    requireEncryption: requireEncryption === true,
    credentials,
    ...(caPem !== undefined ? { caPem } : {}),
    warnings,
  };
}

export interface CreateResult {
  rendered: RenderedSchedule;
  dryRun: boolean;
  /** The CronJob did not exist before. */
  created: boolean;
  namespaceCreated: boolean;
  /** Objects of an earlier version of the schedule that no longer belong to it, deleted. */
  removed: string[];
  /** Discovery problems: the RBAC rules may miss types of these groups. */
  warnings: string[];
}

/** Renders the schedule against the cluster's resource types and applies it (unless dryRun). */
export async function createSchedule(
  client: KubeClient,
  spec: ScheduleSpec,
  storage: ScheduleStorage,
  dryRun: boolean,
): Promise<CreateResult> {
  const discovery = await discover(client);
  const warnings = discovery.failures.map(
    (f) => `discovery of ${f.groupVersion} failed (${f.message}): its types get no read rights`,
  );
  if (!spec.selection.allNamespaces) {
    const covered = coveredNamespaces(spec.selection);
    if (covered.length === 0) {
      throw new UserError(
        'every namespace given with -n is also excluded',
        'check -n and --exclude-namespace',
      );
    }
    for (const ns of covered) {
      if (!(await client.getOptional(objectPath(TYPES.Namespace, ns)))) {
        throw new UserError(
          `namespace "${ns}" not found`,
          'a schedule gets read rights in each namespace it backs up, so the namespace must exist; check with: kubectl get namespaces',
        );
      }
    }
  }
  const rendered = renderSchedule({
    spec,
    types: discovery.types,
    credentials: storage.credentials,
    ...(storage.caPem !== undefined ? { caPem: storage.caPem } : {}),
    redact: dryRun,
  });
  const base = { rendered, dryRun, created: false, namespaceCreated: false, removed: [], warnings };
  if (dryRun) return base;

  const ns = spec.installNamespace;
  const current = await client.getOptional(cronJobPath(spec.name, ns));
  if (current && current.metadata.labels?.[SCHEDULE_LABEL] !== spec.name) {
    throw new UserError(
      `a CronJob ${ns}/${spec.name} exists that is not a kubectl-snapshot schedule`,
      'choose another schedule name or --install-namespace; it is left untouched',
    );
  }
  const existed = current !== undefined;
  let namespaceCreated = false;
  if (!(await client.getOptional(objectPath(TYPES.Namespace, ns)))) {
    await client.apply(pathOf(rendered.namespace), rendered.namespace);
    namespaceCreated = true;
  }
  for (const obj of rendered.objects) {
    try {
      await client.apply(pathOf(obj), obj);
    } catch (err) {
      let cleaned = false;
      if (!existed) {
        // Leave nothing half-made behind: remove what this run applied.
        await deleteOwned(client, spec.name, ns, coveredNamespaces(spec.selection)).catch(() => {});
        if (namespaceCreated)
          await client.request('DELETE', pathOf(rendered.namespace)).catch(() => {});
        cleaned = true;
      }
      throw new UserError(
        `applying ${objectRef(obj)} failed: ${errorMessage(err)}`,
        cleaned
          ? 'nothing was left in the cluster; fix the cause and run schedule create again'
          : 'the schedule is partly updated; fix the cause and run schedule create again',
      );
    }
  }
  // An earlier version of the schedule may have covered namespaces this one does not.
  const wanted = new Set(rendered.objects.map((o) => objectRef(o)));
  const stale = (await findOwned(client, spec.name, ns, coveredNamespaces(spec.selection))).filter(
    (o) => o.kind !== 'Job' && o.kind !== 'Pod' && !wanted.has(objectRef(o)),
  );
  await deleteAll(client, stale);
  return {
    ...base,
    created: !existed,
    namespaceCreated,
    removed: stale.map((o) => objectRef(o)),
  };
}

// ---- find and delete --------------------------------------------------------------------

const DELETE_ORDER: Kind[] = [
  'CronJob',
  'Job',
  'Pod',
  'RoleBinding',
  'Role',
  'ClusterRoleBinding',
  'ClusterRole',
  'ConfigMap',
  'Secret',
  'ServiceAccount',
];

async function listAll(client: KubeClient, path: string, labelSelector: string) {
  const out: KubeObject[] = [];
  for await (const page of client.listPages(path, { labelSelector })) out.push(...page);
  return out;
}

/**
 * Every object carrying the schedule's labels: in the install namespace, cluster-wide RBAC,
 * and Roles/RoleBindings in any namespace (or, without the right to list those cluster-wide,
 * in `namespacesHint`).
 */
export async function findOwned(
  client: KubeClient,
  name: string,
  installNamespace: string,
  namespacesHint: string[] = [],
): Promise<KubeObject[]> {
  const selector = scheduleSelector(name, installNamespace);
  const found: KubeObject[] = [];
  const add = (kind: Kind, items: KubeObject[]) => {
    for (const o of items) found.push({ ...o, kind, apiVersion: o.apiVersion ?? '' });
  };
  for (const kind of ['CronJob', 'Job', 'Pod', 'ServiceAccount', 'Secret', 'ConfigMap'] as const) {
    add(kind, await listAll(client, collectionPath(TYPES[kind], installNamespace), selector));
  }
  for (const kind of ['Role', 'RoleBinding'] as const) {
    try {
      add(kind, await listAll(client, collectionPath(TYPES[kind]), selector));
    } catch (err) {
      if (!(err instanceof ApiError && err.statusCode === 403)) throw err;
      for (const ns of namespacesHint)
        add(kind, await listAll(client, collectionPath(TYPES[kind], ns), selector));
    }
  }
  for (const kind of ['ClusterRole', 'ClusterRoleBinding'] as const) {
    add(kind, await listAll(client, collectionPath(TYPES[kind]), selector));
  }
  return found;
}

async function deleteAll(client: KubeClient, objects: KubeObject[]): Promise<void> {
  const order = (o: KubeObject) => DELETE_ORDER.indexOf(o.kind as Kind);
  for (const o of [...objects].sort((a, b) => order(a) - order(b))) {
    try {
      await client.request('DELETE', pathOf(o), { query: { propagationPolicy: 'Background' } });
    } catch (err) {
      if (!(err instanceof ApiError && err.statusCode === 404)) throw err;
    }
  }
}

async function deleteOwned(
  client: KubeClient,
  name: string,
  installNamespace: string,
  namespacesHint: string[],
): Promise<KubeObject[]> {
  const owned = await findOwned(client, name, installNamespace, namespacesHint);
  await deleteAll(client, owned);
  return owned;
}

/**
 * Removes everything `schedule create` made for the schedule (and its Jobs and Pods). The
 * install namespace stays: other schedules may live there.
 */
export async function deleteSchedule(
  client: KubeClient,
  name: string,
  installNamespace: string,
): Promise<string[]> {
  const cron = await client.getOptional(cronJobPath(name, installNamespace));
  const hint = cron ? (storedSpec(cron)?.selection?.namespaces ?? []) : [];
  const owned = await deleteOwned(client, name, installNamespace, hint);
  if (!cron && owned.length === 0) throw noSuchSchedule(name, installNamespace);
  return owned.map((o) => objectRef(o));
}

function noSuchSchedule(name: string, ns: string): NotFoundError {
  return new NotFoundError(
    `schedule "${name}" in namespace ${ns}`,
    'list the schedules with: kubectl snapshot schedule list (and --install-namespace if it is not kubectl-snapshot)',
  );
}

async function getCronJob(client: KubeClient, name: string, ns: string): Promise<KubeObject> {
  const cron = await client.getOptional(cronJobPath(name, ns));
  if (!cron || cron.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY)
    throw noSuchSchedule(name, ns);
  return cron;
}

// ---- run now, suspend, resume -----------------------------------------------------------

interface JobTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
}

/** Creates a Job from the CronJob's jobTemplate now, as `kubectl create job --from=cronjob/…`. */
export async function runScheduleNow(
  client: KubeClient,
  name: string,
  installNamespace: string,
): Promise<KubeObject> {
  const cron = await getCronJob(client, name, installNamespace);
  const tpl = (cron.spec as { jobTemplate?: JobTemplate } | undefined)?.jobTemplate ?? {};
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      // The API server shortens the base so the name stays within 63 characters.
      generateName: `${name}-manual-`,
      namespace: installNamespace,
      labels: { ...(tpl.metadata?.labels ?? {}) },
      annotations: {
        ...(tpl.metadata?.annotations ?? {}),
        'cronjob.kubernetes.io/instantiate': 'manual',
      },
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name,
          uid: cron.metadata.uid as string,
          controller: true,
        },
      ],
    },
    spec: tpl.spec,
  };
  return client.request<KubeObject>('POST', collectionPath(TYPES.Job, installNamespace), {
    body: job,
  });
}

export async function setSuspended(
  client: KubeClient,
  name: string,
  installNamespace: string,
  suspend: boolean,
): Promise<void> {
  await getCronJob(client, name, installNamespace);
  await client.request('PATCH', cronJobPath(name, installNamespace), {
    body: { spec: { suspend } },
    contentType: 'application/merge-patch+json',
    query: { fieldManager: 'kubectl-snapshot' },
  });
}

// ---- status -----------------------------------------------------------------------------

/** The options stored on the CronJob by specAnnotation; storage is the canonical URL. */
export type StoredSpec = Omit<ScheduleSpec, 'storage'> & { storage: string };

export function storedSpec(cron: KubeObject): StoredSpec | undefined {
  const raw = cron.metadata.annotations?.[SPEC_ANNOTATION];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as StoredSpec;
  } catch {
    return undefined;
  }
}

export interface ScheduleInfo {
  name: string;
  namespace: string;
  schedule: string;
  timeZone?: string;
  suspended: boolean;
  active: number;
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
  /** Next run (UTC, ISO 8601); absent when suspended. */
  nextRun?: string;
  image?: string;
  storage?: string;
  selection?: Selection;
  keep?: StoredSpec['keep'];
  ttl?: string;
}

export function scheduleInfo(cron: KubeObject, now = new Date()): ScheduleInfo {
  const spec = (cron.spec ?? {}) as {
    schedule?: string;
    timeZone?: string;
    suspend?: boolean;
    jobTemplate?: { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } };
  };
  const status = (cron.status ?? {}) as {
    active?: unknown[];
    lastScheduleTime?: string;
    lastSuccessfulTime?: string;
  };
  const stored = storedSpec(cron);
  const suspended = spec.suspend === true;
  let nextRun: string | undefined;
  if (!suspended && spec.schedule) {
    try {
      nextRun = nextRuns(
        parseCron(spec.schedule),
        now,
        1,
        spec.timeZone ?? 'UTC',
      )[0]?.toISOString();
    } catch {
      nextRun = undefined;
    }
  }
  return {
    name: cron.metadata.name,
    namespace: cron.metadata.namespace ?? '',
    schedule: spec.schedule ?? '',
    ...(spec.timeZone ? { timeZone: spec.timeZone } : {}),
    suspended,
    active: status.active?.length ?? 0,
    ...(status.lastScheduleTime ? { lastScheduleTime: status.lastScheduleTime } : {}),
    ...(status.lastSuccessfulTime ? { lastSuccessfulTime: status.lastSuccessfulTime } : {}),
    ...(nextRun ? { nextRun } : {}),
    ...(spec.jobTemplate?.spec?.template?.spec?.containers?.[0]?.image
      ? { image: spec.jobTemplate.spec.template.spec.containers[0].image }
      : {}),
    ...(stored
      ? {
          storage: stored.storage,
          selection: stored.selection,
          keep: stored.keep,
          ...(stored.ttl ? { ttl: stored.ttl } : {}),
        }
      : {}),
  };
}

export async function listSchedules(client: KubeClient, installNamespace: string) {
  const crons = await listAll(
    client,
    collectionPath(TYPES.CronJob, installNamespace),
    `${MANAGED_BY_LABEL}=${MANAGED_BY},${SCHEDULE_LABEL}`,
  );
  return crons
    .map((c) => scheduleInfo(c))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface JobInfo {
  name: string;
  status: 'Active' | 'Succeeded' | 'Failed' | 'Pending';
  manual: boolean;
  created?: string;
  completed?: string;
}

export interface ScheduleDetails extends ScheduleInfo {
  serviceAccount: string;
  nextRuns: string[];
  rules: { role: string; namespace?: string; rules: unknown[] }[];
  jobs: JobInfo[];
}

export async function describeSchedule(
  client: KubeClient,
  name: string,
  installNamespace: string,
  now = new Date(),
): Promise<ScheduleDetails> {
  const cron = await getCronJob(client, name, installNamespace);
  const info = scheduleInfo(cron, now);
  const n = names(name, installNamespace);
  const owned = await findOwned(client, name, installNamespace, info.selection?.namespaces ?? []);
  const rules = owned
    .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
    .map((o) => ({
      role: `${o.kind} ${o.metadata.name}`,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      rules: (o.rules as unknown[]) ?? [],
    }));
  const jobs = owned
    .filter((o) => o.kind === 'Job')
    .map((j): JobInfo => {
      const st = (j.status ?? {}) as {
        active?: number;
        succeeded?: number;
        failed?: number;
        completionTime?: string;
        conditions?: { type: string; status: string; lastTransitionTime?: string }[];
      };
      const cond = (t: string) => st.conditions?.find((c) => c.type === t && c.status === 'True');
      const status = cond('Complete')
        ? 'Succeeded'
        : cond('Failed')
          ? 'Failed'
          : (st.active ?? 0) > 0
            ? 'Active'
            : 'Pending';
      const done = st.completionTime ?? cond('Failed')?.lastTransitionTime;
      return {
        name: j.metadata.name,
        status,
        manual: j.metadata.annotations?.['cronjob.kubernetes.io/instantiate'] === 'manual',
        ...(j.metadata.creationTimestamp ? { created: j.metadata.creationTimestamp } : {}),
        ...(done ? { completed: done } : {}),
      };
    })
    .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
  let upcoming: string[] = [];
  if (!info.suspended) {
    try {
      upcoming = nextRuns(parseCron(info.schedule), now, 3, info.timeZone ?? 'UTC').map((d) =>
        d.toISOString(),
      );
    } catch {
      upcoming = [];
    }
  }
  return { ...info, serviceAccount: n.serviceAccount, nextRuns: upcoming, rules, jobs };
}

/**
 * The newest snapshot a schedule made in a store, found by the names schedule runs give
 * (one listing, then snapshot.json of the newest candidates until one carries the label).
 */
export async function lastScheduledSnapshot(
  store: ObjectStore,
  schedule: string,
): Promise<SnapshotManifest | undefined> {
  const names: string[] = [];
  for await (const o of store.list('snapshots/')) {
    const k = parseKey(o.key);
    if (k && o.key === manifestKey(k.name) && isScheduledSnapshotName(schedule, k.name))
      names.push(k.name);
  }
  names.sort().reverse();
  for (const n of names.slice(0, 10)) {
    try {
      const m = await readManifest(store, n);
      if (m.labels[SCHEDULE_LABEL] === schedule) return m;
    } catch {
      // deleted meanwhile or damaged: try the next one
    }
  }
  return undefined;
}

// ---- exec: what the CronJob's container runs --------------------------------------------

export interface ExecOptions {
  schedule: string;
  selection: Selection;
  ttlMs?: number;
  labels: Record<string, string>;
  encryption?: EncryptionKey;
  policy: RetentionPolicy;
  now?: () => Date;
  onProgress?: Parameters<typeof runBackup>[1]['onProgress'];
}

export interface ExecResult {
  manifest: SnapshotManifest;
  prune: PruneResult;
}

/**
 * One scheduled run, in this process: a backup named `<schedule>-<timestamp>` and labelled
 * with the schedule, then a prune limited to that schedule's snapshots. The prune runs only
 * after a successful backup, as `backup && prune` would.
 */
export async function execSchedule(deps: BackupDeps, opts: ExecOptions): Promise<ExecResult> {
  const now = opts.now ?? (() => new Date());
  const manifest = await runBackup(deps, {
    name: scheduledSnapshotName(opts.schedule, now()),
    selection: opts.selection,
    ...(opts.ttlMs ? { ttlMs: opts.ttlMs } : {}),
    labels: { ...opts.labels, [SCHEDULE_LABEL]: opts.schedule },
    ...(opts.encryption ? { encryption: opts.encryption } : {}),
    now,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  const prune = await runPrune(deps.store, {
    policy: opts.policy,
    filter: { schedule: opts.schedule },
    dryRun: false,
    now: now(),
  });
  return { manifest, prune };
}
