// What a restore, dry run or diff says about each object, and how an existing object is
// compared with the snapshot's. The report types live here so the CLI reads them without
// the runner.
import { REFERENCE_RESOURCES } from '../core/references.js';
import type { KubeObject } from '../core/types.js';
import type { KubeClient } from '../kube/client.js';
import { objectPath } from '../kube/discovery.js';
import { digest } from './digest.js';
import type { Escalation } from './escalation.js';
import { diffObjects, type FieldDiff, normalizeInPlace } from './normalize.js';
import type { LeftOut, PlannedObject } from './plan.js';
import type { DependencyReport } from './preflight.js';

export type Outcome =
  | 'created'
  | 'would-create'
  | 'exists-identical'
  | 'exists-differs'
  /** Exists, not compared: a reference (a StorageClass, …), whatever the cluster's says. */
  | 'exists'
  | 'skipped'
  | 'failed'
  | 'not-validated';

export interface ObjectResult {
  resource: string;
  kind: string;
  namespace?: string;
  name: string;
  outcome: Outcome;
  message?: string;
  diff?: FieldDiff[];
  /** The transform rules that changed the object (transforms/), when any did. */
  transforms?: readonly string[];
  /** A namespace the restore made without a Namespace object in the snapshot (plan.ts). */
  bare?: true;
}

export interface RestoreReport extends DependencyReport {
  snapshot: string;
  dryRun?: 'client' | 'server';
  results: ObjectResult[];
  totals: Record<Outcome, number>;
  /** Bindings in the plan that grant wide rights (escalation.ts); absent when none. */
  escalations?: Escalation[];
}

/** How many results have each outcome (every outcome present, zero when none). */
export function tally(results: readonly ObjectResult[]): Record<Outcome, number> {
  const t: Record<Outcome, number> = {
    created: 0,
    'would-create': 0,
    'exists-identical': 0,
    'exists-differs': 0,
    exists: 0,
    skipped: 0,
    failed: 0,
    'not-validated': 0,
  };
  for (const r of results) t[r.outcome]++;
  return t;
}

export function result(p: PlannedObject, outcome: Outcome, message?: string): ObjectResult {
  return {
    resource: p.resource,
    kind: p.kind,
    namespace: p.namespace,
    name: p.name,
    outcome,
    ...(message ? { message } : {}),
    ...(p.bare ? { bare: true as const } : {}),
  };
}

/** An object the plan left out; its namespace is the target one, as for every other result. */
export function skippedResult(s: LeftOut): ObjectResult {
  return {
    resource: s.resource,
    kind: s.kind,
    namespace: s.namespace,
    name: s.name,
    outcome: 'skipped',
    message: s.reason,
  };
}

/**
 * Compares a planned object with the existing one: equal digests mean identical; otherwise
 * the existing object is fetched and diffed field by field (null and missing are equal there,
 * so a digest mismatch can still be identical).
 */
export async function compare(
  client: KubeClient,
  p: PlannedObject,
  existing: string | KubeObject,
  withDiff: boolean,
): Promise<ObjectResult> {
  if (REFERENCE_RESOURCES.has(p.resource))
    return result(p, 'exists', 'a reference: the cluster has one, not compared');
  if (typeof existing === 'string' && p.digest === existing) return result(p, 'exists-identical');
  const wanted = await p.materialize();
  const a = normalizeInPlace(wanted);
  if (typeof existing === 'string' && p.digest === undefined && digest(a) === existing)
    return result(p, 'exists-identical');
  const current =
    typeof existing === 'string'
      ? await client.getOptional(objectPath(p.type, p.name, p.namespace))
      : existing;
  if (!current) return result(p, 'exists-differs', 'was deleted while the restore ran');
  const b = normalizeInPlace({ ...current, apiVersion: wanted.apiVersion, kind: wanted.kind });
  const diff = diffObjects(b, a);
  if (diff.length === 0) return result(p, 'exists-identical');
  return {
    ...result(p, 'exists-differs', `${diff.length} field(s) differ`),
    ...(withDiff ? { diff } : {}),
  };
}
