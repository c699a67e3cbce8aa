// The cluster objects an `auto` backup adds to what it listed: it reads what the application
// closure (core/closure.ts) picks from, adds what it decides, and logs each with its reason.
import { applicationClosure, type ClusterLists } from '../core/closure.js';
import { errorMessage } from '../core/errors.js';
import { REFERENCE_RESOURCES } from '../core/references.js';
import {
  CLUSTER_ROLE_BINDINGS,
  CLUSTER_ROLES,
  CRDS,
  PERSISTENT_VOLUMES,
} from '../core/resource-names.js';
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
    // A class is a reference, not data: the restore checks it against the target cluster.
    if (REFERENCE_RESOURCES.has(qualifiedResource(type)))
      return note({
        level: 'info',
        msg: `not looked up: related ${qualifiedResource(type)} not readable (forbidden)`,
        resource: qualifiedResource(type),
      });
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

  // Read by name: PersistentVolumes, and the classes objects name (as references). Twice: the
  // second pass adds the StorageClasses of the PersistentVolumes the first one read.
  const byName = (resource: string) =>
    resource === PERSISTENT_VOLUMES || REFERENCE_RESOURCES.has(resource);
  const done = new Set<string>();
  for (const pass of [1, 2]) {
    for (const inclusion of applicationClosure(facts, lists, allowed)) {
      const key = `${inclusion.resource}/${inclusion.name}`;
      if (done.has(key)) continue;
      done.add(key);
      const type = typeOf(inclusion.resource) as DiscoveredType;
      let obj = inclusion.object;
      if (!obj && byName(inclusion.resource)) {
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
        reason: REFERENCE_RESOURCES.has(inclusion.resource)
          ? `${inclusion.reason}; a reference: restored only if absent`
          : inclusion.reason,
      });
    }
    if (pass === 1 && !facts.persistentVolumes.size) break;
  }
}
