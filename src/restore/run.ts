// The restore runner: executes a plan against the cluster. It never modifies or deletes an
// existing object; per-object failures are results, not exceptions.

import { AdaptiveGate, AdaptiveLimit, AUTO_CONCURRENCY } from '../core/adaptive.js';
import { errorMessage, UserError } from '../core/errors.js';
import { mapLimit } from '../core/pool.js';
import {
  CLUSTER_ROLE_BINDINGS,
  CLUSTER_ROLES,
  CRDS as CRD,
  ROLE_BINDINGS,
} from '../core/resource-names.js';
import type { KubeObject } from '../core/types.js';
import { ApiError, type KubeClient, type ResponseObserver } from '../kube/client.js';
import { objectPath } from '../kube/discovery.js';
import { getIfAllowed, waitForCrds, waitUntilGone } from './cluster.js';
import { type InPlan, plannedDependency } from './dry-run.js';
import {
  boundClusterRole,
  type Escalation,
  escalationReason,
  needsRoleRules,
} from './escalation.js';
import { type ArchivedObject, wholeObject } from './load.js';
import { Lookups } from './lookup.js';
import { ensureNamespace } from './namespace-step.js';
import { createObject } from './ownership-run.js';
import { type PlannedObject, planRestore, type RestoreOptions, type RestorePlan } from './plan.js';
import { checkDependencies, dependencyReport } from './preflight.js';
import {
  compare,
  type ObjectResult,
  type RestoreReport,
  result,
  skippedResult,
  tally,
} from './results.js';
import type { LoadedSnapshot } from './snapshot.js';
import {
  crdDeletingNotValidated,
  crdNameOf,
  crdNotRestoredMessage,
  DEFAULT_WAIT_TERMINATING_MS,
  type Deleting,
  deletingNotValidated,
  deletionOf,
  holdersText,
  stillDeletingMessage,
} from './terminating.js';
import { recordTransforms } from './transforms/report.js';

/**
 * What a run does with its plan. Every mode but the client dry run talks to the cluster, so
 * it carries the client: a run without one cannot be mistaken for any other mode.
 */
export type RunMode =
  /** `restore --dry-run=client`: the plan, as objects that would be created; no cluster. */
  | { kind: 'client-dry-run' }
  /** `restore --dry-run=server`: the API server validates every create; nothing persists. */
  | { kind: 'server-dry-run'; client: KubeClient }
  /** `restore`: creates what does not exist. */
  | { kind: 'create'; client: KubeClient }
  /** `diff`: looks up and compares, sends no create; field-level diffs only with details. */
  | { kind: 'compare'; client: KubeClient; details: boolean };

/** The modes that talk to the cluster. */
type ClusterMode = Exclude<RunMode, { kind: 'client-dry-run' }>;

export interface RunOptions extends RestoreOptions {
  mode: RunMode;
  /**
   * Creates in flight at once within a tier: a number (default 16), or `auto`, which adapts
   * to the API server (core/adaptive.ts) between 1 and AUTO_CONCURRENCY.max.
   */
  concurrency?: number | 'auto';
  onProgress?: (done: number, total: number) => void;
  /** Aborting it stops the run before its next create (what was created stays). */
  signal?: AbortSignal;
  /** Give created objects the backup's field owners (ownership.ts); default true. */
  keepFieldOwners?: boolean;
  /** How long to wait for each object being deleted before failing it (0: do not wait). */
  waitTerminatingMs?: number;
  /** Told when the restore starts waiting for an object being deleted. */
  onWaiting?: (what: string, holders: string) => void;
}

/**
 * Feeds the limit what the server answers: the latency of creates and patches (lookups are
 * LISTs, whose time says nothing of what a create costs), and every 429 of any request.
 */
function adaptTo(limit: AdaptiveLimit): ResponseObserver {
  return ({ method, status, ms, retryAfterMs }) => {
    if (status === 429) limit.throttled(Date.now(), retryAfterMs);
    else if ((method === 'POST' || method === 'PATCH') && status < 300) limit.answered(ms);
  };
}

/** The report's `dryRun` (scripts read it): set by the two dry runs, absent otherwise. */
export function reportedDryRun(mode: RunMode): RestoreReport['dryRun'] {
  if (mode.kind === 'client-dry-run') return 'client';
  return mode.kind === 'server-dry-run' ? 'server' : undefined;
}

/** Only a real restore changes the cluster (and waits for what it created to be served). */
function changesCluster(mode: RunMode): boolean {
  return mode.kind === 'create';
}

/** Whether objects that exist and differ carry their field-level diff. */
function withFieldDiffs(mode: RunMode): boolean {
  return mode.kind !== 'compare' || mode.details;
}

/**
 * Restores (or validates, or compares: see RunMode) a loaded snapshot. CRDs first and waited
 * for, then namespaces, then the tiers in order with bounded parallelism inside each tier.
 */
export async function runRestore(
  snap: LoadedSnapshot,
  options: RunOptions,
): Promise<RestoreReport> {
  const opts = { ...options, typeNames: options.typeNames ?? snap.typeNames };
  const plan = planRestore(snap.objects, opts);
  const planned = [...plan.crds, ...plan.namespaces, ...plan.tiers.flat()];
  // A rule that cannot apply to an object (a patch of a path it lacks) is found before anything
  // is created: the preflight transforms every object first (checkDependencies).
  const report = await runPlanned(snap, opts, plan);
  // Which transform rules changed each object: a field of each result.
  await recordTransforms(report.results, planned, opts.transform);
  return report;
}

async function runPlanned(
  snap: LoadedSnapshot,
  opts: RunOptions,
  plan: RestorePlan,
): Promise<RestoreReport> {
  const results: ObjectResult[] = plan.skipped.map(skippedResult);
  const all = [...plan.crds, ...plan.namespaces, ...plan.tiers.flat()];
  const { mode } = opts;
  const client = mode.kind === 'client-dry-run' ? undefined : mode.client;
  const escalations = await rbacEscalations(snap.objects, all, client);
  const dependencies = dependencyReport(
    await checkDependencies(
      snap.objects,
      all,
      opts.mapping,
      client,
      opts.transform !== undefined && !opts.transform.empty,
    ),
  );
  const withEscalations = (r: RestoreReport): RestoreReport => ({
    ...(escalations.length > 0 ? { ...r, escalations } : r),
    ...dependencies,
  });
  if (mode.kind === 'client-dry-run') {
    for (const p of all) results.push(result(p, 'would-create'));
    return withEscalations(report(snap, mode, results));
  }
  // Lookups are closed by snap.close(); ones made here stop with the restore.
  const own = snap.lookups ? undefined : new Lookups(mode.client);
  const existing = snap.lookups ?? (own as Lookups);
  try {
    return withEscalations(await restoreWith(mode, snap, plan, all, results, existing, opts));
  } finally {
    await own?.close();
  }
}

const CLUSTER_ROLE_TYPE = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  resource: 'clusterroles',
  kind: 'ClusterRole',
  namespaced: false,
} as const;

/**
 * The planned bindings that grant wide rights, judged by escalationReason against the
 * ClusterRole as the snapshot has it, else (with a cluster) as the cluster has it.
 */
async function rbacEscalations(
  archived: ArchivedObject[],
  planned: PlannedObject[],
  client: KubeClient | undefined,
): Promise<Escalation[]> {
  const inSnapshot = new Map(
    archived.filter((a) => a.resource === CLUSTER_ROLES).map((a) => [a.name, a]),
  );
  const out: Escalation[] = [];
  for (const p of planned) {
    if (p.resource !== ROLE_BINDINGS && p.resource !== CLUSTER_ROLE_BINDINGS) continue;
    const binding = await p.materialize();
    const roleName = boundClusterRole(binding);
    let role: KubeObject | undefined;
    if (roleName !== undefined && needsRoleRules(p.resource, binding)) {
      const archivedRole = inSnapshot.get(roleName);
      if (archivedRole) role = await wholeObject(archivedRole);
      else if (client)
        role = await client
          .getOptional(objectPath(CLUSTER_ROLE_TYPE, roleName))
          .catch(() => undefined);
    }
    const reason = escalationReason(p.resource, binding, role);
    if (reason)
      out.push({
        resource: p.resource,
        kind: p.kind,
        ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
        name: p.name,
        reason,
      });
  }
  return out;
}

function report(snap: LoadedSnapshot, mode: RunMode, results: ObjectResult[]): RestoreReport {
  const dryRun = reportedDryRun(mode);
  return {
    snapshot: snap.manifest.name,
    ...(dryRun ? { dryRun } : {}),
    results,
    totals: tally(results),
  };
}

async function restoreWith(
  mode: ClusterMode,
  snap: LoadedSnapshot,
  plan: RestorePlan,
  all: PlannedObject[],
  results: ObjectResult[],
  existing: Lookups,
  opts: RunOptions,
): Promise<RestoreReport> {
  const { client } = mode;
  const persists = changesCluster(mode);
  const withDiff = withFieldDiffs(mode);
  const fixed = opts.concurrency === 'auto' ? undefined : (opts.concurrency ?? 16);
  const concurrency = fixed ?? AUTO_CONCURRENCY.initial;
  // `auto`: the creates of a tier all start (up to AUTO_CONCURRENCY.max) and the adaptive
  // gate decides how many attempts are in flight; diff sends no create, nothing to adapt to.
  const gate =
    fixed === undefined && mode.kind !== 'compare'
      ? new AdaptiveGate(new AdaptiveLimit(AUTO_CONCURRENCY))
      : undefined;
  const ungate = gate && [client.observe(adaptTo(gate.limit)), client.gateWrites(gate)];
  const waitMs = opts.waitTerminatingMs ?? DEFAULT_WAIT_TERMINATING_MS;
  let done = 0;
  const progress = () => opts.onProgress?.(done, all.length);
  /** Namespaces that do not exist (dry run: were not created), so objects in them cannot be validated. */
  const absentNamespaces = new Set<string>();
  const planned = new Set(all.map((p) => `${p.resource}/${p.namespace ?? ''}/${p.name}`));
  const inPlan: InPlan = (resource, ns, name) => planned.has(`${resource}/${ns ?? ''}/${name}`);
  /** CRDs of the plan being deleted (dry runs, diff) or not restored: their resources follow. */
  const deletingCrds = new Set<string>();
  const failedCrds = new Set<string>();
  /** Namespaces a real restore could not wait out or create: nothing is tried in them. */
  const failedNamespaces = new Set<string>();

  /**
   * An existing object that is being deleted: a real restore waits until it is gone (then it
   * is absent) or fails it; a dry run or diff cannot wait and does not validate it.
   */
  const waitOut = async (
    p: PlannedObject,
    deleting: Deleting,
  ): Promise<{ done: ObjectResult } | { found: KubeObject | null }> => {
    if (!persists) {
      if (p.resource === CRD) deletingCrds.add(p.name);
      return { done: result(p, 'not-validated', deletingNotValidated(deleting, waitMs)) };
    }
    opts.onWaiting?.(
      `${p.resource}/${p.name}${p.namespace ? ` -n ${p.namespace}` : ''}`,
      holdersText(deleting),
    );
    const waited = await waitUntilGone(client, p, deleting, waitMs, opts.signal);
    if (waited.state === 'held')
      return { done: result(p, 'failed', stillDeletingMessage(waited.deleting, waitMs)) };
    return { found: waited.state === 'replaced' ? waited.object : null };
  };

  /** Creates (or validates) one object; `absent`: known not to exist, so not looked up. */
  const createWith = async (p: PlannedObject, absent: boolean): Promise<ObjectResult> => {
    opts.signal?.throwIfAborted();
    try {
      if (p.namespace !== undefined && absentNamespaces.has(p.namespace)) {
        if (mode.kind === 'compare') return result(p, 'would-create');
        return result(
          p,
          'not-validated',
          `namespace ${p.namespace} does not exist yet, so the server cannot validate objects in it`,
        );
      }
      if (p.namespace !== undefined && failedNamespaces.has(p.namespace))
        return result(
          p,
          'failed',
          `its namespace ${p.namespace} was not restored (see its result)`,
        );
      const crd = crdNameOf(p.type);
      if (deletingCrds.has(crd)) return result(p, 'not-validated', crdDeletingNotValidated(crd));
      if (failedCrds.has(crd)) return result(p, 'failed', crdNotRestoredMessage(crd));
      let found: string | KubeObject | null | undefined = absent ? null : await existing.lookup(p);
      // Not allowed to list its type: unknown, not absent. Asked by GET where GET is allowed.
      if (found === undefined) found = await getIfAllowed(client, p);
      const deleting =
        typeof found === 'string'
          ? await existing.deleting(p)
          : found && deletionOf({ ...found, kind: p.kind });
      if (found && deleting) {
        const waited = await waitOut(p, deleting);
        if ('done' in waited) return waited.done;
        found = waited.found;
      }
      // Awaited here, so that a failed compare is this object's failure, not the run's.
      if (found) return await compare(client, p, found, withDiff);
      if (found === undefined && mode.kind === 'compare')
        return result(p, 'not-validated', 'not compared: you may neither list nor get it');
      if (mode.kind === 'compare') return result(p, 'would-create');
      try {
        // After a real create, in its turn of the pool: the backup's field owners.
        const keepFieldOwners = opts.keepFieldOwners !== false;
        const note = await createObject(client, p, { persists, keepFieldOwners });
        return result(p, persists ? 'created' : 'would-create', note);
      } catch (err) {
        if (err instanceof ApiError && err.statusCode === 409 && err.reason === 'AlreadyExists') {
          // Created meanwhile (or the list was not allowed): still never touched.
          const now = await client
            .getOptional(objectPath(p.type, p.name, p.namespace))
            .catch(() => undefined);
          return now
            ? await compare(client, p, now, withDiff)
            : result(p, 'exists-differs', 'already exists');
        }
        throw err;
      }
    } catch (err) {
      if (err instanceof UserError) throw err; // cluster unreachable, credentials: fatal
      if (mode.kind === 'server-dry-run') {
        const needs = plannedDependency(p.resource, p.namespace, await p.materialize(), inPlan);
        if (needs) return result(p, 'not-validated', needs);
      }
      return result(p, 'failed', errorMessage(err));
    } finally {
      done++;
      progress();
    }
  };

  const createOne = (p: PlannedObject) => createWith(p, false);

  // 1. CRDs (one being deleted waited out), then wait until the API serves their resources.
  const crdResults = await mapLimit(plan.crds, concurrency, createOne);
  results.push(...crdResults);
  for (const r of crdResults) if (r.outcome === 'failed') failedCrds.add(r.name);
  if (persists) await waitForCrds(client, plan, failedCrds);

  // 2. Namespaces: wait out a Terminating one, then create it.
  const nsResults = await mapLimit(plan.namespaces, concurrency, async (ns) => {
    const inside = plan.tiers.flat().find((p) => p.namespace === ns.name);
    const r = await ensureNamespace(
      client,
      ns,
      {
        dryRun: !persists,
        withDiff,
        waitMs,
        ...(inside ? { inside } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onWaiting ? { onWaiting: opts.onWaiting } : {}),
      },
      createWith,
      absentNamespaces,
    );
    if (r.outcome === 'created') existing.createdNamespace(ns.name);
    if (r.outcome === 'failed') failedNamespaces.add(ns.name);
    return r;
  });
  results.push(...nsResults);

  // Start every lookup now, in tier order, rather than when its tier comes: a later tier's
  // lists then run while an earlier tier's objects are created or compared.
  for (const p of plan.tiers.flat()) existing.prefetch(p.type, p.namespace);

  // 3. Everything else, tier by tier.
  const perTier = gate ? AUTO_CONCURRENCY.max : concurrency;
  try {
    for (const tier of plan.tiers) results.push(...(await mapLimit(tier, perTier, createOne)));
  } finally {
    for (const stop of ungate ?? []) stop();
  }
  return report(snap, mode, results);
}
