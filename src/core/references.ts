// The cluster-scoped "classes" an object runs with, by name: PriorityClass and RuntimeClass
// (Pod templates), StorageClass (claims, volumes, StatefulSet claim templates), IngressClass
// (Ingresses). Pure. The application closure stores the ones it can read as references, and
// a restore's dependency preflight (restore/dependencies.ts) checks that they exist.
import type { KubeObject } from './types.js';

export const PRIORITY_CLASSES = 'priorityclasses.scheduling.k8s.io';
export const RUNTIME_CLASSES = 'runtimeclasses.node.k8s.io';
export const STORAGE_CLASSES = 'storageclasses.storage.k8s.io';
export const INGRESS_CLASSES = 'ingressclasses.networking.k8s.io';

/**
 * Cluster objects that a restore creates only when absent and never compares: the cluster's
 * own class of that name is the one its objects run with, whatever the snapshot's says.
 */
export const REFERENCE_RESOURCES: ReadonlySet<string> = new Set([
  PRIORITY_CLASSES,
  RUNTIME_CLASSES,
  STORAGE_CLASSES,
  INGRESS_CLASSES,
]);

/** The legacy way an Ingress names its class (before spec.ingressClassName). */
export const LEGACY_INGRESS_CLASS = 'kubernetes.io/ingress.class';

export interface ClassReference {
  /** Qualified resource of the class, e.g. `storageclasses.storage.k8s.io`. */
  resource: string;
  name: string;
  /** Where the object names it: a path of keys (and array indexes). */
  path: (string | number)[];
  /**
   * Named by the legacy annotation: a controller's convention, which may name no IngressClass
   * object at all, so it is kept when it exists and never reported missing.
   */
  byAnnotation?: true;
}

const TEMPLATE = ['spec', 'template', 'spec'];
/** Where each workload kind keeps its Pod spec. */
const POD_SPECS: Record<string, string[]> = {
  pods: ['spec'],
  podtemplates: ['template', 'spec'],
  replicationcontrollers: TEMPLATE,
  'deployments.apps': TEMPLATE,
  'replicasets.apps': TEMPLATE,
  'statefulsets.apps': TEMPLATE,
  'daemonsets.apps': TEMPLATE,
  'jobs.batch': TEMPLATE,
  'cronjobs.batch': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

function at(obj: unknown, path: readonly (string | number)[]): unknown {
  let v = obj;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

/** `a.b[0].c`: the field a reference was read from, for reasons and reports. */
export function fieldName(path: readonly (string | number)[]): string {
  return path
    .map((k, i) => {
      if (typeof k === 'number') return `[${k}]`;
      if (/[./]/.test(k)) return `['${k}']`;
      return i === 0 ? k : `.${k}`;
    })
    .join('');
}

/** The classes an object of a qualified resource names, each with the field that names it. */
export function classReferences(resource: string, obj: KubeObject): ClassReference[] {
  const out: ClassReference[] = [];
  const named = (ref: Omit<ClassReference, 'name'>) => {
    const name = at(obj, ref.path);
    // An empty storageClassName means "no class" (static binding), not a class named "".
    if (typeof name === 'string' && name !== '') out.push({ ...ref, name });
  };
  const podSpec = POD_SPECS[resource];
  if (podSpec) {
    named({ resource: PRIORITY_CLASSES, path: [...podSpec, 'priorityClassName'] });
    named({ resource: RUNTIME_CLASSES, path: [...podSpec, 'runtimeClassName'] });
  }
  if (resource === 'statefulsets.apps') {
    const templates = at(obj, ['spec', 'volumeClaimTemplates']);
    if (Array.isArray(templates))
      templates.forEach((_, i) => {
        named({
          resource: STORAGE_CLASSES,
          path: ['spec', 'volumeClaimTemplates', i, 'spec', 'storageClassName'],
        });
      });
  }
  if (resource === 'persistentvolumeclaims' || resource === 'persistentvolumes')
    named({ resource: STORAGE_CLASSES, path: ['spec', 'storageClassName'] });
  if (resource === 'ingresses.networking.k8s.io') {
    named({ resource: INGRESS_CLASSES, path: ['spec', 'ingressClassName'] });
    named({
      resource: INGRESS_CLASSES,
      path: ['metadata', 'annotations', LEGACY_INGRESS_CLASS],
      byAnnotation: true,
    });
  }
  return out;
}

/**
 * Just the fields classReferences reads, in their places: what a restore's planning view of
 * an object (restore/load.ts) keeps of its spec. Undefined when the object names no class.
 */
export function classReferenceSkeleton(
  resource: string,
  obj: KubeObject,
): Record<string, unknown> | undefined {
  const refs = classReferences(resource, obj).filter((r) => !r.byAnnotation);
  if (refs.length === 0) return undefined;
  const root: Record<string | number, unknown> = {};
  for (const r of refs) {
    let node = root;
    r.path.forEach((k, i) => {
      if (i === r.path.length - 1) {
        node[k] = r.name;
        return;
      }
      const next = r.path[i + 1];
      node[k] ??= typeof next === 'number' ? [] : {};
      node = node[k] as Record<string | number, unknown>;
    });
  }
  return root;
}

/** The class's kind, for reasons and reports: `storageclasses.storage.k8s.io` → StorageClass. */
export function classKind(resource: string): string {
  switch (resource) {
    case PRIORITY_CLASSES:
      return 'PriorityClass';
    case RUNTIME_CLASSES:
      return 'RuntimeClass';
    case STORAGE_CLASSES:
      return 'StorageClass';
    default:
      return 'IngressClass';
  }
}
