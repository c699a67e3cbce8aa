// The thin runner of the dependency preflight (dependencies.ts): what the restore set lacks is
// asked of the cluster, one GET per named object and one discovery document per API version.
// Reads only; a GET the user may not make is "not checked", never missing.
import { errorMessage } from '../core/errors.js';
import { mapLimit } from '../core/pool.js';
import { isCustomGroup } from '../core/resources.js';
import type { KubeObject, ResourceType } from '../core/types.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { objectPath } from '../kube/discovery.js';
import {
  type DependencyFindings,
  type Dependent,
  judgeDependencies,
  type MissingDependency,
  needing,
  needsOf,
  type Presence,
  RestoreSet,
  type Target,
  targetKey,
  type UncheckedDependencies,
} from './dependencies.js';
import type { ArchivedObject } from './load.js';
import type { PlannedObject } from './plan.js';

/** What a report carries of the preflight: each field only when it has something. */
export interface DependencyReport {
  missingDependencies?: MissingDependency[];
  dependenciesNotChecked?: UncheckedDependencies[];
}

export function dependencyReport(f: DependencyFindings): DependencyReport {
  return {
    ...(f.missing.length > 0 ? { missingDependencies: f.missing } : {}),
    ...(f.notChecked.length > 0 ? { dependenciesNotChecked: f.notChecked } : {}),
  };
}

/** `storageclasses.storage.k8s.io` as a v1 type (every class and ClusterRole is at v1). */
function clusterTypeOf(t: Extract<Target, { kind: 'object' }>): ResourceType {
  const dot = t.resource.indexOf('.');
  return {
    group: t.resource.slice(dot + 1),
    version: 'v1',
    resource: t.resource.slice(0, dot),
    kind: t.objectKind,
    namespaced: false,
  };
}

function unknownFrom(err: unknown, what: string): Presence {
  if (err instanceof ApiError && err.statusCode === 403)
    return { state: 'unknown', why: `you may not get ${what}` };
  if (err instanceof ApiError) return { state: 'unknown', why: errorMessage(err) };
  throw err; // unreachable cluster, credentials: fatal, as for the restore itself
}

/**
 * Checks the planned objects' dependencies against the restore set plus, given a client, the
 * cluster. Without one (`--dry-run=client`) what the restore set does not provide is
 * "not checked".
 */
export async function checkDependencies(
  archived: readonly ArchivedObject[],
  planned: readonly PlannedObject[],
  mapping: ReadonlyMap<string, string>,
  client: KubeClient | undefined,
  /** Restore-time transforms may change what an object names: judge what will be sent. */
  transformed = false,
): Promise<DependencyFindings> {
  // The planning views of the planned objects (by target namespace), which keep the fields
  // the rules read.
  const views = new Map<string, KubeObject>();
  const keyOf = (resource: string, ns: string | undefined, name: string) =>
    `${resource}|${ns ?? ''}|${name}`;
  for (const a of archived) {
    const ns = a.namespace === undefined ? undefined : (mapping.get(a.namespace) ?? a.namespace);
    views.set(keyOf(a.resource, ns, a.name), a.object);
  }
  const restoreSet = new RestoreSet();
  // With transforms this transforms every object once before the first create, which is also
  // what finds a rule that cannot apply to one (runRestore relies on it). Each object is
  // reduced to its targets at once: all of them are alive until the check ends, and whole
  // transformed objects of a 50,000-object restore took 230 MiB more at the peak.
  const needings = await mapLimit(planned, 16, async (p) => {
    const object = (transformed ? await p.materialize() : undefined) ??
      views.get(keyOf(p.resource, p.namespace, p.name)) ?? {
        apiVersion: '',
        kind: p.kind,
        metadata: { name: p.name },
      };
    const d: Dependent = { ...p, object };
    if (d.namespace === undefined) restoreSet.add(d.resource, d.name, d.object);
    return needing(d);
  });
  const needs = needsOf(needings);
  const asked = needs.filter((n) => !restoreSet.provides(n.target));
  const answers = new Map<string, Presence>();
  if (client) {
    const served = new Map<string, Promise<Set<string> | Presence>>();
    const resourcesAt = (path: string) => {
      let p = served.get(path);
      if (!p) {
        p = client
          .getOptional<{ resources?: { name: string }[] }>(path)
          .then((list): Set<string> | Presence =>
            list ? new Set((list.resources ?? []).map((r) => r.name)) : { state: 'absent' },
          )
          .catch((err: unknown) => unknownFrom(err, `the discovery document ${path}`));
        served.set(path, p);
      }
      return p;
    };
    await mapLimit(asked, 8, async (n) => {
      const t = n.target;
      let presence: Presence;
      if (t.kind === 'type') {
        const list = await resourcesAt(
          t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`,
        );
        presence =
          list instanceof Set ? { state: list.has(t.resource) ? 'present' : 'absent' } : list;
      } else {
        presence = await client
          .getOptional(objectPath(clusterTypeOf(t), t.name))
          .then((o): Presence => ({ state: o ? 'present' : 'absent' }))
          .catch((err: unknown) => unknownFrom(err, t.resource));
      }
      answers.set(n.key, presence);
    });
  }
  const noCluster: Presence = {
    state: 'unknown',
    why: '--dry-run=client does not contact the cluster; only the snapshot was checked',
  };
  // Without a cluster the built-in types are taken as served: listing them all as not
  // checked would hide what matters.
  const offline = (t: Target): Presence =>
    t.kind === 'type' && !isCustomGroup(t.group) ? { state: 'present' } : noCluster;
  return judgeDependencies(needs, restoreSet, (t) => answers.get(targetKey(t)) ?? offline(t));
}
