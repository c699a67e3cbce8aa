// A restore's namespaces, before anything is created in them: a Terminating one is waited
// out (bounded), an existing one compared and never created again, one the user may not read
// but may create objects in taken as existing.
import type { KubeObject } from '../core/types.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { objectPath } from '../kube/discovery.js';
import { mayCreate, waitUntilGone } from './cluster.js';
import type { PlannedObject } from './plan.js';
import { compare, type ObjectResult, result } from './results.js';
import {
  deletingNotValidated,
  deletionOf,
  holdersText,
  stillDeletingMessage,
} from './terminating.js';

export interface NamespaceStep {
  /** A dry run or diff: nothing is created, nothing waited for. */
  dryRun: boolean;
  withDiff: boolean;
  waitMs: number;
  /** An object the restore puts in this namespace: who may create it may use the namespace. */
  inside?: PlannedObject;
  signal?: AbortSignal;
  onWaiting?: (what: string, holders: string) => void;
}

export async function ensureNamespace(
  client: KubeClient,
  ns: PlannedObject,
  how: NamespaceStep,
  /** Creates (or validates) an object; `absent`: known not to exist, no lookup needed. */
  createOne: (p: PlannedObject, absent: boolean) => Promise<ObjectResult>,
  /** Filled with namespaces that do not exist (dry run: were not created). */
  absent: Set<string>,
): Promise<ObjectResult> {
  let current: KubeObject | undefined;
  let readable = true;
  try {
    current = await client.getOptional(objectPath(ns.type, ns.name));
  } catch (err) {
    if (!(err instanceof ApiError && err.statusCode === 403)) throw err;
    readable = false;
  }
  const deleting = current && deletionOf(current);
  if (current && deleting) {
    if (how.dryRun) {
      absent.add(ns.name);
      return result(ns, 'not-validated', deletingNotValidated(deleting, how.waitMs));
    }
    how.onWaiting?.(`namespace ${ns.name}`, holdersText(deleting));
    const waited = await waitUntilGone(client, ns, deleting, how.waitMs, how.signal);
    if (waited.state === 'held')
      return result(ns, 'failed', stillDeletingMessage(waited.deleting, how.waitMs));
    current = waited.state === 'replaced' ? waited.object : undefined;
  }
  // A namespace that exists is never created again (nor asked to be: a namespace user may not).
  if (current) return compare(client, ns, current, how.withDiff);
  // May not GET it, but may create the objects restored into it: it exists for this user.
  if (!readable && how.inside && (await mayCreate(client, how.inside)))
    return result(
      ns,
      'skipped',
      'not readable by you; taken as existing: you may create objects in it',
    );
  // Read just now (and waited out if it was being deleted): absent unless it was not readable.
  const r = await createOne(ns, readable);
  if (how.dryRun && r.outcome === 'would-create') absent.add(ns.name);
  return r;
}
