// Sends the field owners of a restored object (ownership.ts decides them) right after its
// create, in the create's turn of the concurrency pool. Never fails the object: what goes wrong
// is the created object's message (`field owners not restored: …`).

import { errorMessage, UserError } from '../core/errors.js';
import { sleep } from '../core/time.js';
import type { KubeObject, ResourceType } from '../core/types.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { collectionPath, objectPath } from '../kube/discovery.js';
import {
  OWNERS_NOT_RESTORED,
  ownersOutcome,
  ownersPatchList,
  RESTORE_MANAGER,
  restoredOwners,
  restoreEntry,
} from './ownership.js';
import type { PlannedObject } from './plan.js';

/**
 * Conditional tries before an unconditional one. A Deployment's controller writes its status
 * and revision annotation several times in the first second after the create, so conditional
 * patches alone keep losing the race; the last try carries no resourceVersion and can only
 * overwrite entries another manager wrote in the few milliseconds since the latest read (a
 * status entry its controller writes again at its next update).
 */
const CONDITIONAL_TRIES = 3;

/**
 * POSTs a planned object (validated only, `dryRun=All`, unless it persists); after a real
 * create, gives it the backup's field owners. Answers the created object's message, if any.
 */
export async function createObject(
  client: KubeClient,
  p: PlannedObject,
  how: { persists: boolean; keepFieldOwners: boolean },
): Promise<string | undefined> {
  const body = await p.materialize();
  const created = await client.request<KubeObject>('POST', collectionPath(p.type, p.namespace), {
    body,
    query: { dryRun: how.persists ? undefined : 'All', fieldManager: RESTORE_MANAGER },
  });
  if (!how.persists || !how.keepFieldOwners || !p.original) return undefined;
  return restoreFieldOwners(client, { ...p, archived: await p.original(), sent: body, created });
}

export interface Restored {
  type: ResourceType;
  namespace?: string;
  name: string;
  /** The object as backed up, with its managedFields. */
  archived: KubeObject;
  /** The body of the create. */
  sent: KubeObject;
  /** The create's answer. */
  created: KubeObject | undefined;
}

/**
 * Gives the object the backup's field owners with a merge patch of metadata.managedFields,
 * conditional on the resourceVersion it was read at. A conflict (the object changed meanwhile:
 * a controller wrote status) re-reads it and tries again, keeping what the others wrote.
 * Answers the object's message, undefined when nothing needed saying.
 */
export async function restoreFieldOwners(
  client: KubeClient,
  o: Restored,
): Promise<string | undefined> {
  const owners = restoredOwners({
    archived: o.archived,
    sent: o.sent,
    created: restoreEntry(o.created),
  });
  if (!owners) return undefined; // none in the backup (an older snapshot): the server's entry
  const path = objectPath(o.type, o.name, o.namespace);
  let current = o.created;
  for (let attempt = 1; ; attempt++) {
    const list = ownersPatchList(owners, current?.metadata.managedFields);
    const conditional = attempt <= CONDITIONAL_TRIES;
    try {
      const answer = await client.request<KubeObject>('PATCH', path, {
        body: {
          metadata: {
            managedFields: list,
            ...(conditional ? { resourceVersion: current?.metadata.resourceVersion } : {}),
          },
        },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: RESTORE_MANAGER },
      });
      return ownersOutcome(list, answer);
    } catch (err) {
      if (err instanceof UserError) throw err;
      const conflict = err instanceof ApiError && err.statusCode === 409;
      if (!conflict || !conditional) return `${OWNERS_NOT_RESTORED}${errorMessage(err)}`;
      await sleep(Math.random() * 50 * attempt);
      current = await client.getOptional<KubeObject>(path).catch(() => undefined);
      if (!current) return `${OWNERS_NOT_RESTORED}the object was deleted after its create`;
    }
  }
}
