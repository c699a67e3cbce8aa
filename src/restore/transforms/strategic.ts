// Strategic merge patch as the API server applies it to built-in types, from a bundled table
// of the patch strategies and merge keys of the common kinds (not the cluster's OpenAPI):
// lists with a merge key merge element by element, `$patch: delete|replace` and
// `$setElementOrder`-free directives as kubectl writes them; every other list is replaced
// and maps merge as in a JSON merge patch. Pure.
import { cloneJson } from '../../core/json.js';

type Obj = Record<string, unknown>;

const POD_SPEC_LISTS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  imagePullSecrets: 'name',
  tolerations: '', // replaced: no merge key
  hostAliases: 'ip',
};
const CONTAINER_LISTS: Record<string, string> = {
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  resizePolicy: 'resourceName',
};

/**
 * The merge key of the list at `path` (object keys only, list elements left out), or
 * undefined when the list is replaced. `path` is relative to the object's root.
 */
export function mergeKeyAt(kind: string, path: readonly string[]): string | undefined {
  const key = path[path.length - 1] as string;
  const parent = path.slice(0, -1).join('.');
  if (parent === 'metadata')
    return key === 'ownerReferences' ? 'uid' : key === 'finalizers' ? '' : undefined;
  if (podSpecPath(kind, parent)) return POD_SPEC_LISTS[key] || undefined;
  const containerParent = path.slice(0, -2).join('.');
  const list = path[path.length - 2];
  if (
    podSpecPath(kind, containerParent) &&
    (list === 'containers' || list === 'initContainers' || list === 'ephemeralContainers')
  )
    return CONTAINER_LISTS[key];
  if (kind === 'Service' && parent === 'spec' && key === 'ports') return 'port';
  if (kind === 'StatefulSet' && parent === 'spec' && key === 'volumeClaimTemplates')
    return undefined;
  return undefined;
}

/** Whether `finalizers`-like primitive lists merge as sets (patch strategy merge, no key). */
function mergesAsSet(path: readonly string[]): boolean {
  return path.join('.') === 'metadata.finalizers';
}

/** Where a kind keeps its pod spec (templates included). */
function podSpecPath(kind: string, dotted: string): boolean {
  switch (kind) {
    case 'Pod':
      return dotted === 'spec';
    case 'CronJob':
      return dotted === 'spec.jobTemplate.spec.template.spec';
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
    case 'ReplicationController':
    case 'PodTemplate':
      return dotted === (kind === 'PodTemplate' ? 'template.spec' : 'spec.template.spec');
    default:
      return false;
  }
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies a strategic merge patch to a copy of `target` (a whole object of `kind`). */
export function strategicMergePatch(kind: string, target: Obj, patch: Obj): Obj {
  return mergeObject(kind, target, patch, []);
}

function mergeObject(kind: string, target: unknown, patch: Obj, path: string[]): Obj {
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return cloneJson(rest);
  }
  const out: Obj = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k.startsWith('$setElementOrder/') || k === '$retainKeys') continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const name = k.slice('$deleteFromPrimitiveList/'.length);
      const drop = Array.isArray(v) ? v : [];
      if (Array.isArray(out[name]))
        out[name] = (out[name] as unknown[]).filter((x) => !drop.includes(x));
      continue;
    }
    if (v === null) delete out[k];
    else if (isObject(v)) {
      if (v.$patch === 'delete') delete out[k];
      else out[k] = mergeObject(kind, out[k], v, [...path, k]);
    } else if (Array.isArray(v)) out[k] = mergeList(kind, out[k], v, [...path, k]);
    else out[k] = v;
  }
  return out;
}

function mergeList(kind: string, target: unknown, patch: unknown[], path: string[]): unknown[] {
  const current = Array.isArray(target) ? target : [];
  if (mergesAsSet(path)) return [...current, ...patch.filter((x) => !current.includes(x))];
  const key = mergeKeyAt(kind, path);
  if (key === undefined || !patch.every(isObject))
    return cloneJson(patch.filter((x) => !(isObject(x) && x.$patch)));
  if (patch.some((p) => (p as Obj).$patch === 'replace'))
    return cloneJson(patch.filter((p) => (p as Obj).$patch !== 'replace'));
  const out = current.map((x) => x);
  for (const p of patch as Obj[]) {
    const id = p[key];
    const at = out.findIndex((x) => isObject(x) && x[key] === id);
    if (p.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) out[at] = mergeObject(kind, out[at], p, path);
    else out.push(mergeObject(kind, {}, p, path));
  }
  return out;
}
