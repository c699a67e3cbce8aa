// `schedule create`: apply what renderSchedule decided, delete what an earlier version left
// that this one no longer has, and take back a first attempt that failed half-way.

import type { NamespaceRights } from '../backup/access.js';
import { errorMessage, UserError } from '../core/errors.js';
import type { KubeObject } from '../core/types.js';
import { accessAllowed, rulesReview } from '../kube/access-review.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { discover, objectPath } from '../kube/discovery.js';
import { SCHEDULE_LABEL } from '../snapshots/scheduled.js';
import { cronJobPath, objectRef, pathOf, TYPES } from './objects.js';
import { deleteAll, findOwned } from './owned.js';
import {
  coveredNamespaces,
  DEFAULT_INSTALL_NAMESPACE,
  type RenderedSchedule,
  renderSchedule,
  type ScheduleSpec,
} from './render.js';
import type { ScheduleStorage } from './storage.js';

export interface CreateResult {
  /** As applied: the install namespace chosen, namespaced-only or not. */
  spec: ScheduleSpec;
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
  requested: ScheduleSpec,
  storage: ScheduleStorage,
  dryRun: boolean,
  /** With spec.sign: the signing key's PEM, for the Secret. */
  signingKeyPem?: string,
): Promise<CreateResult> {
  const discovery = await discover(client);
  const warnings = discovery.failures.map(
    (f) => `discovery of ${f.groupVersion} failed (${f.message}): its types get no read rights`,
  );
  if (!requested.selection.allNamespaces) {
    const covered = coveredNamespaces(requested.selection);
    if (covered.length === 0) {
      throw new UserError(
        'every namespace given with -n is also excluded',
        'check -n and --exclude-namespace',
      );
    }
    for (const ns of covered) {
      if (!(await namespaceExists(client, ns))) {
        throw new UserError(
          `namespace "${ns}" not found`,
          'a schedule gets read rights in each namespace it backs up, so the namespace must exist; check with: kubectl get namespaces',
        );
      }
    }
  }
  const access = await creatorAccess(client, requested);
  const spec: ScheduleSpec = { ...requested, ...access.spec };
  const rendered = renderSchedule({
    spec,
    ...(access.creatorRights ? { creatorRights: access.creatorRights } : {}),
    types: discovery.types,
    credentials: storage.credentials,
    ...(storage.caPem !== undefined ? { caPem: storage.caPem } : {}),
    ...(signingKeyPem !== undefined ? { signingKeyPem } : {}),
    redact: dryRun,
  });
  const base = {
    spec,
    rendered,
    dryRun,
    created: false,
    namespaceCreated: false,
    removed: [],
    warnings,
  };
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
  const applied: KubeObject[] = [];
  for (const obj of rendered.objects) {
    try {
      await client.apply(pathOf(obj), obj);
      applied.push(obj);
    } catch (err) {
      const failure = `applying ${objectRef(obj)} failed: ${errorMessage(err)}`;
      if (existed)
        throw new UserError(
          failure,
          'the schedule is partly updated; fix the cause and run schedule create again',
        );
      const left = await rollBack(
        client,
        spec,
        applied,
        namespaceCreated ? rendered.namespace : undefined,
      );
      throw new UserError(
        failure,
        left.length === 0
          ? "nothing was left in the cluster (checked by listing the schedule's labels); fix the cause and run schedule create again"
          : `these could not be removed: ${left.join(', ')}; delete them with: kubectl snapshot schedule delete ${spec.name} --install-namespace ${ns}`,
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

/**
 * Takes back a first attempt that failed half-way: deletes what this run applied (by name, so
 * it needs no cluster-wide list a tenant may not make), then lists the schedule's labels to
 * check. Returns what still remains.
 */
async function rollBack(
  client: KubeClient,
  spec: ScheduleSpec,
  applied: KubeObject[],
  namespace: KubeObject | undefined,
): Promise<string[]> {
  const hint = coveredNamespaces(spec.selection);
  await deleteAll(client, applied).catch(() => {});
  // What a concurrent or earlier run may have left with the same labels goes too.
  const found = await findOwned(client, spec.name, spec.installNamespace, hint).catch(() => []);
  await deleteAll(client, found).catch(() => {});
  if (namespace) await client.request('DELETE', pathOf(namespace)).catch(() => {});
  try {
    const left = await findOwned(client, spec.name, spec.installNamespace, hint);
    // Pods of a Job go with it in the background; none was started (the CronJob is last).
    return left.map((o) => objectRef(o));
  } catch (err) {
    return [`(the check by listing failed: ${errorMessage(err)})`];
  }
}

interface CreatorAccess {
  spec: Pick<ScheduleSpec, 'installNamespace' | 'namespacedOnly'>;
  creatorRights?: (NamespaceRights | undefined)[];
}

/**
 * Whether the creator may create ClusterRoles (one SelfSubjectAccessReview), and their rules in
 * each covered namespace (a SelfSubjectRulesReview each, in parallel). Without that right the
 * schedule is namespaced-only and, unless --install-namespace was given, installed in the
 * first backed-up namespace (the creator cannot create a namespace of its own either).
 */
async function creatorAccess(client: KubeClient, spec: ScheduleSpec): Promise<CreatorAccess> {
  const install = spec.installNamespace === '' ? undefined : spec.installNamespace;
  if (spec.selection.allNamespaces)
    return { spec: { installNamespace: install ?? DEFAULT_INSTALL_NAMESPACE } };
  const covered = coveredNamespaces(spec.selection);
  const [clusterRbac, creatorRights] = await Promise.all([
    accessAllowed(client, {
      verb: 'create',
      group: 'rbac.authorization.k8s.io',
      resource: 'clusterroles',
    }),
    Promise.all(covered.map((ns) => rulesReview(client, ns))),
  ]);
  if (clusterRbac) return { spec: { installNamespace: install ?? DEFAULT_INSTALL_NAMESPACE } };
  return {
    spec: { installNamespace: install ?? (covered[0] as string), namespacedOnly: true },
    creatorRights,
  };
}

/** A namespace the creator may not even read is refused before anything is made. */
async function namespaceExists(client: KubeClient, ns: string): Promise<boolean> {
  try {
    return (await client.getOptional(objectPath(TYPES.Namespace, ns))) !== undefined;
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 403)
      throw new UserError(
        `you may not read namespace "${ns}" (forbidden); nothing was created`,
        'a schedule backs up only namespaces you administer: check with: kubectl auth can-i get namespace/' +
          ns,
      );
    throw err;
  }
}
