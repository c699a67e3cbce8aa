// What a schedule owns in the cluster: find it, delete it, start a Job from its CronJob now,
// suspend and resume it.
import { NotFoundError, UserError } from '../core/errors.js';
import type { KubeObject } from '../core/types.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { collectionPath, objectPath } from '../kube/discovery.js';
import { SCHEDULE_LABEL } from '../snapshots/scheduled.js';
import {
  cronJobPath,
  type Kind,
  listAll,
  objectRef,
  pathOf,
  storedSpec,
  TYPES,
} from './objects.js';
import { MANAGED_BY, MANAGED_BY_LABEL, names, scheduleSelector } from './render.js';

// The CronJob first, so it starts no Job meanwhile; Jobs before their Pods; bindings before
// the roles they grant.
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
    try {
      add(kind, await listAll(client, collectionPath(TYPES[kind]), selector));
    } catch (err) {
      // A namespace admin may not list cluster RBAC; a schedule they could create is
      // namespaced-only and has none. What a cluster admin made, they can see only by name.
      if (!(err instanceof ApiError && err.statusCode === 403)) throw err;
      for (const o of await clusterRbacByName(client, name, installNamespace, kind)) add(kind, [o]);
    }
  }
  return found;
}

/** The schedule's ClusterRole or ClusterRoleBinding fetched by its name, where GET is allowed. */
async function clusterRbacByName(
  client: KubeClient,
  name: string,
  installNamespace: string,
  kind: 'ClusterRole' | 'ClusterRoleBinding',
): Promise<KubeObject[]> {
  const path = objectPath(TYPES[kind], names(name, installNamespace).rbac);
  try {
    const o = await client.getOptional(path);
    return o && o.metadata.labels?.[SCHEDULE_LABEL] === name ? [o] : [];
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 403) return [];
    throw err;
  }
}

export async function deleteAll(client: KubeClient, objects: KubeObject[]): Promise<void> {
  const order = (o: KubeObject) => DELETE_ORDER.indexOf(o.kind as Kind);
  for (const o of [...objects].sort((a, b) => order(a) - order(b))) {
    try {
      await client.request('DELETE', pathOf(o), { query: { propagationPolicy: 'Background' } });
    } catch (err) {
      if (!(err instanceof ApiError && err.statusCode === 404)) throw err;
    }
  }
}

export async function deleteOwned(
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
  // A CronJob by that name that `schedule create` did not make is someone else's: untouched.
  if (cron && cron.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY)
    throw new UserError(
      `CronJob ${name} in namespace ${installNamespace} is not a schedule (not made by kubectl snapshot schedule create); nothing was deleted`,
      'list the schedules with: kubectl snapshot schedule list',
    );
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

export async function getCronJob(
  client: KubeClient,
  name: string,
  ns: string,
): Promise<KubeObject> {
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
