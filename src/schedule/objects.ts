// The Kubernetes objects a schedule is made of, as the other schedule modules address them:
// their API types and paths, how messages name them, and the options stored on the CronJob.
import type { KubeObject, ResourceType } from '../core/types.js';
import type { KubeClient } from '../kube/client.js';
import { objectPath } from '../kube/discovery.js';
import { type ScheduleSpec, SPEC_ANNOTATION } from './render.js';

const core = (resource: string, kind: string, namespaced = true): ResourceType => ({
  group: '',
  version: 'v1',
  resource,
  kind,
  namespaced,
});
const rbac = (resource: string, kind: string, namespaced: boolean): ResourceType => ({
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  resource,
  kind,
  namespaced,
});
const batch = (resource: string, kind: string): ResourceType => ({
  group: 'batch',
  version: 'v1',
  resource,
  kind,
  namespaced: true,
});

export const TYPES = {
  Namespace: core('namespaces', 'Namespace', false),
  ServiceAccount: core('serviceaccounts', 'ServiceAccount'),
  Secret: core('secrets', 'Secret'),
  ConfigMap: core('configmaps', 'ConfigMap'),
  Pod: core('pods', 'Pod'),
  Job: batch('jobs', 'Job'),
  CronJob: batch('cronjobs', 'CronJob'),
  Role: rbac('roles', 'Role', true),
  RoleBinding: rbac('rolebindings', 'RoleBinding', true),
  ClusterRole: rbac('clusterroles', 'ClusterRole', false),
  ClusterRoleBinding: rbac('clusterrolebindings', 'ClusterRoleBinding', false),
} satisfies Record<string, ResourceType>;
export type Kind = keyof typeof TYPES;

function typeOf(kind: string): ResourceType {
  const t = (TYPES as Record<string, ResourceType>)[kind];
  if (!t) throw new Error(`no API path known for kind ${kind}`);
  return t;
}

export function pathOf(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  const t = typeOf(obj.kind);
  return objectPath(t, obj.metadata.name, t.namespaced ? obj.metadata.namespace : undefined);
}

/** `role/kubectl-snapshot:ns:name (namespace shop)`, as kubectl prints objects. */
export function objectRef(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  const ns = obj.metadata.namespace;
  return `${obj.kind.toLowerCase()}/${obj.metadata.name}${ns ? ` (namespace ${ns})` : ''}`;
}

export const cronJobPath = (name: string, ns: string) => objectPath(TYPES.CronJob, name, ns);

/** Every object at a collection path that matches the selector, across all pages. */
export async function listAll(client: KubeClient, path: string, labelSelector: string) {
  const out: KubeObject[] = [];
  for await (const page of client.listPages(path, { labelSelector })) out.push(...page);
  return out;
}

/** The options stored on the CronJob by specAnnotation; storage is the canonical URL. */
export type StoredSpec = Omit<ScheduleSpec, 'storage'> & { storage: string };

export function storedSpec(cron: KubeObject): StoredSpec | undefined {
  const raw = cron.metadata.annotations?.[SPEC_ANNOTATION];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as StoredSpec;
  } catch {
    return undefined;
  }
}
