// `schedule create`: apply what renderSchedule decided, delete what an earlier version left
// that this one no longer has, and take back a first attempt that failed half-way.
import { errorMessage, UserError } from '../core/errors.js';
import type { KubeClient } from '../kube/client.js';
import { discover, objectPath } from '../kube/discovery.js';
import { SCHEDULE_LABEL } from '../snapshots/scheduled.js';
import { cronJobPath, objectRef, pathOf, TYPES } from './objects.js';
import { deleteAll, deleteOwned, findOwned } from './owned.js';
import {
  coveredNamespaces,
  type RenderedSchedule,
  renderSchedule,
  type ScheduleSpec,
} from './render.js';
import type { ScheduleStorage } from './storage.js';

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
  /** With spec.sign: the signing key's PEM, for the Secret. */
  signingKeyPem?: string,
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
    ...(signingKeyPem !== undefined ? { signingKeyPem } : {}),
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
