// What `schedule list` and `schedule describe` show: a schedule's state, read from its
// CronJob, Jobs and Roles, and the newest snapshot it made.
import type { KubeObject, Selection } from '../core/types.js';
import type { KubeClient } from '../kube/client.js';
import { collectionPath } from '../kube/discovery.js';
import { SCHEDULE_LABEL } from '../snapshots/scheduled.js';
import { upcomingRuns } from './cron.js';
import { listAll, type StoredSpec, storedSpec, TYPES } from './objects.js';
import { findOwned, getCronJob } from './owned.js';
import { MANAGED_BY, MANAGED_BY_LABEL, names } from './render.js';

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
  /** Each snapshot is signed with the key in the schedule's Secret. */
  signed?: boolean;
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
  const nextRun = suspended
    ? undefined
    : upcomingRuns(spec.schedule ?? '', 1, spec.timeZone, now)[0];
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
          ...(stored.sign ? { signed: true } : {}),
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
  const upcoming = info.suspended ? [] : upcomingRuns(info.schedule, 3, info.timeZone, now);
  return { ...info, serviceAccount: n.serviceAccount, nextRuns: upcoming, rules, jobs };
}
