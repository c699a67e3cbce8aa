// What a restore reads of the target cluster besides its lookups: when the CRDs it created
// are served, when an object being deleted is gone, an object by GET where LIST is not
// allowed, and whether the user may create.
import { sleep } from '../core/time.js';
import type { KubeObject } from '../core/types.js';
import { accessAllowed } from '../kube/access-review.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { collectionPath, objectPath } from '../kube/discovery.js';
import type { PlannedObject, RestorePlan } from './plan.js';
import { type Deleting, deletionOf } from './terminating.js';

function conditionTrue(obj: KubeObject | undefined, type: string): boolean {
  const conds =
    (obj?.status as { conditions?: { type?: string; status?: string }[] } | undefined)
      ?.conditions ?? [];
  return conds.some((c) => c.type === type && c.status === 'True');
}

export async function waitForCrds(
  client: KubeClient,
  plan: RestorePlan,
  /** CRDs whose create failed: nothing to wait for. */
  failed: ReadonlySet<string>,
): Promise<void> {
  await Promise.all(
    plan.crds
      .filter((c) => !failed.has(c.name))
      .map(async (crd) => {
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline) {
          const obj = await client.getOptional(objectPath(crd.type, crd.name));
          if (conditionTrue(obj, 'Established') && conditionTrue(obj, 'NamesAccepted')) break;
          await sleep(200);
        }
        // Established can precede the new endpoints being served for a moment.
        const spec = (await crd.materialize()).spec as {
          group: string;
          names: { plural: string; kind: string };
          scope: string;
          versions: { name: string; served?: boolean; storage?: boolean }[];
        };
        const version = spec.versions.find((v) => v.storage)?.name ?? spec.versions[0]?.name;
        if (!version) return;
        const t = {
          group: spec.group,
          version,
          resource: spec.names.plural,
          kind: spec.names.kind,
          namespaced: false,
        };
        while (Date.now() < deadline) {
          try {
            await client.get(collectionPath(t), { limit: 1 });
            return;
          } catch {
            await sleep(200);
          }
        }
      }),
  );
}

/** The object by GET; null when absent, undefined when GET is not allowed either. */
export async function getIfAllowed(
  client: KubeClient,
  p: PlannedObject,
): Promise<KubeObject | null | undefined> {
  try {
    return (await client.getOptional(objectPath(p.type, p.name, p.namespace))) ?? null;
  } catch (err) {
    if (err instanceof ApiError && [403, 405].includes(err.statusCode)) return undefined;
    throw err;
  }
}

/** A SelfSubjectAccessReview: whether the user may create objects of p's type in its namespace. */
export async function mayCreate(client: KubeClient, p: PlannedObject): Promise<boolean> {
  return accessAllowed(client, {
    verb: 'create',
    group: p.type.group,
    resource: p.type.resource,
    ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
  });
}

/** How a wait for an object being deleted ended. */
export type WaitOutcome =
  | { state: 'gone' }
  /** Someone else created it again meanwhile: an existing object, to compare. */
  | { state: 'replaced'; object: KubeObject }
  /** Still being deleted when the time ran out: what held it last. */
  | { state: 'held'; deleting: Deleting };

/** Polls an object being deleted until it is gone, for at most `waitMs`. */
export async function waitUntilGone(
  client: KubeClient,
  p: PlannedObject,
  deleting: Deleting,
  waitMs: number,
  signal?: AbortSignal,
): Promise<WaitOutcome> {
  const deadline = Date.now() + waitMs;
  let last = deleting;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return { state: 'held', deleting: last };
    await sleep(Math.min(500, left));
    signal?.throwIfAborted();
    const now = await client.getOptional(objectPath(p.type, p.name, p.namespace));
    if (!now) return { state: 'gone' };
    const d = deletionOf({ ...now, kind: p.kind });
    if (!d) return { state: 'replaced', object: now };
    last = d;
  }
}
