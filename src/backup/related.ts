// The cluster objects an `auto` backup adds to what it listed: it reads what the application
// closure (core/closure.ts) picks from, adds what it decides, and logs each with its reason.
import {
  applicationClosure,
  CLUSTER_ROLE_BINDINGS,
  CLUSTER_ROLES,
  type ClusterLists,
  CRDS,
  PERSISTENT_VOLUMES,
} from '../core/closure.js';
import { errorMessage } from '../core/errors.js';
import {
  type KubeObject,
  qualifiedResource,
  type ResourceType,
  type SnapshotWarning,
} from '../core/types.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { collectionPath, type DiscoveredType, objectPath } from '../kube/discovery.js';
import { includesCustomResources, needsClusterRoleBindings } from './access.js';
import type { RelatedCollector } from './select.js';

/** One line of the backup log (log.jsonl.gz). */
export interface LogLine {
  ts: string;
  level: 'info' | 'warning';
  msg: string;
  resource?: string;
  namespace?: string;
  count?: number;
  /** With `included`: the related cluster object and why the closure added it. */
  name?: string;
  reason?: string;
}

/**
 * Reads what the closure picks from (only the lists it can use), then adds what
 * `applicationClosure` decides, logging each object with its reason. A forbidden read is a
 * warning and leaves its objects out.
 */
export async function addRelated(
  client: KubeClient,
  types: DiscoveredType[],
  related: RelatedCollector,
  namespaceObjects: KubeObject[],
  add: (t: ResourceType, o: KubeObject) => Promise<void>,
  warn: (w: SnapshotWarning) => void,
  note: (l: Omit<LogLine, 'ts'>) => void,
): Promise<void> {
  const facts = related.facts;
  const typeOf = (resource: string) => types.find((t) => qualifiedResource(t) === resource);
  const forbidden = (type: DiscoveredType, err: unknown) => {
    if (!(err instanceof ApiError && err.statusCode === 403)) throw err;
    warn({
      resource: qualifiedResource(type),
      message: `related ${qualifiedResource(type)} not readable (forbidden): ${errorMessage(err)}`,
    });
  };
  const list = async (resource: string, needed: boolean): Promise<KubeObject[] | undefined> => {
    const type = typeOf(resource);
    if (!type || !needed) return undefined; // excluded by the user, or nothing needs it
    try {
      const all: KubeObject[] = [];
      for await (const page of client.listPages(collectionPath(type))) all.push(...page);
      return all;
    } catch (err) {
      forbidden(type, err);
      return undefined;
    }
  };
  const allowed = (resource: string) => typeOf(resource) !== undefined;
  const lists: ClusterLists = {
    namespaces: namespaceObjects,
    crds: await list(CRDS, includesCustomResources(facts.typesWithObjects)),
    clusterRoleBindings: await list(
      CLUSTER_ROLE_BINDINGS,
      needsClusterRoleBindings(facts.serviceAccounts),
    ),
  };
  const bindsClusterRoles =
    facts.namesClusterRoles() ||
    applicationClosure(facts, lists).some((i) => i.resource === CLUSTER_ROLE_BINDINGS);
  lists.clusterRoles = await list(CLUSTER_ROLES, bindsClusterRoles);

  const pvType = typeOf(PERSISTENT_VOLUMES);
  for (const inclusion of applicationClosure(facts, lists, allowed)) {
    const type = typeOf(inclusion.resource) as DiscoveredType;
    let obj = inclusion.object;
    if (!obj && type === pvType) {
      try {
        obj = await client.getOptional(objectPath(type, inclusion.name));
      } catch (err) {
        forbidden(type, err);
      }
    }
    if (!obj) continue;
    await add(type, obj);
    note({
      level: 'info',
      msg: 'included',
      resource: inclusion.resource,
      name: inclusion.name,
      reason: inclusion.reason,
    });
  }
}
