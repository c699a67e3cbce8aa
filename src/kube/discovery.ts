// Discovery of every resource type the server offers, at each group's preferred version.
import { errorMessage } from '../core/errors.js';
import { apiVersionOf, type ResourceType } from '../core/types.js';
import type { KubeClient } from './client.js';

export interface DiscoveredType extends ResourceType {
  verbs: string[];
  shortNames: string[];
  singular: string;
}

export interface DiscoveryResult {
  types: DiscoveredType[];
  /** Groups whose discovery failed (e.g. an aggregated API that is down). */
  failures: { groupVersion: string; message: string }[];
}

interface ApiResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
  shortNames?: string[];
}

interface ApiGroup {
  name: string;
  preferredVersion?: { groupVersion: string; version: string };
  versions: { groupVersion: string; version: string }[];
}

export async function discover(client: KubeClient): Promise<DiscoveryResult> {
  const core = await client.get<{ versions: string[] }>('/api');
  const groups = await client.get<{ groups: ApiGroup[] }>('/apis');
  const targets: { group: string; version: string; path: string }[] = [];
  if (core.versions.includes('v1')) targets.push({ group: '', version: 'v1', path: '/api/v1' });
  for (const g of groups.groups) {
    const pv = g.preferredVersion ?? g.versions[0];
    if (pv) targets.push({ group: g.name, version: pv.version, path: `/apis/${pv.groupVersion}` });
  }
  const failures: DiscoveryResult['failures'] = [];
  const lists = await Promise.all(
    targets.map(async (t) => {
      try {
        const list = await client.get<{ resources: ApiResource[] }>(t.path);
        return list.resources
          .filter((r) => !r.name.includes('/')) // subresources (status, scale, log, …)
          .map(
            (r): DiscoveredType => ({
              group: t.group,
              version: t.version,
              resource: r.name,
              kind: r.kind,
              namespaced: r.namespaced,
              verbs: r.verbs ?? [],
              shortNames: r.shortNames ?? [],
              singular: r.singularName || r.kind.toLowerCase(),
            }),
          );
      } catch (err) {
        failures.push({ groupVersion: apiVersionOf(t), message: errorMessage(err) });
        return [];
      }
    }),
  );
  return { types: lists.flat(), failures };
}

/** The REST path of a collection, e.g. /apis/apps/v1/namespaces/ns/deployments. */
export function collectionPath(t: ResourceType, namespace?: string): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return t.namespaced && namespace !== undefined
    ? `${base}/namespaces/${namespace}/${t.resource}`
    : `${base}/${t.resource}`;
}

export function objectPath(t: ResourceType, name: string, namespace?: string): string {
  return `${collectionPath(t, namespace)}/${encodeURIComponent(name)}`;
}
