// The shortcut flags as generated rules of the same engine, so they show in the report by
// name and go through the same digests: --storage-class-mapping, --image-registry-mapping,
// --replicas-to-zero, and the removal of GitOps tracking metadata from namespace clones.
import { UserError } from '../../core/errors.js';
import type { KubeObject } from '../../core/types.js';
import type { ObjectContext } from './conditions.js';

/** A rule written as code: changes `obj` in place, answers whether it changed anything. */
export interface CodeRule {
  name: string;
  apply(obj: KubeObject, ctx: ObjectContext): boolean;
}

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;

/** `OLD=NEW` pairs into a map, each OLD once. */
export function parsePairs(
  specs: readonly string[],
  flag: string,
  example: string,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const from = eq < 0 ? '' : spec.slice(0, eq).trim();
    const to = eq < 0 ? '' : spec.slice(eq + 1).trim();
    if (from === '' || to === '')
      throw new UserError(`invalid ${flag} "${spec}": expected OLD=NEW`, `e.g. ${flag} ${example}`);
    const prev = out.get(from);
    if (prev !== undefined && prev !== to)
      throw new UserError(
        `${flag}: "${from}" is mapped twice, to "${prev}" and to "${to}"`,
        'map each value once',
      );
    out.set(from, to);
  }
  return out;
}

function mapStorageClass(spec: Obj | undefined, map: ReadonlyMap<string, string>): boolean {
  const old = spec?.storageClassName;
  if (!spec || typeof old !== 'string' || !map.has(old)) return false;
  spec.storageClassName = map.get(old);
  return true;
}

/** --storage-class-mapping: PVCs, PVs and StatefulSet volumeClaimTemplates. */
export function storageClassRule(map: ReadonlyMap<string, string>): CodeRule {
  return {
    name: `--storage-class-mapping ${[...map].map(([a, b]) => `${a}=${b}`).join(',')}`,
    apply(obj, ctx) {
      if (ctx.resource === 'persistentvolumeclaims' || ctx.resource === 'persistentvolumes')
        return mapStorageClass(rec(obj.spec), map);
      if (ctx.resource !== 'statefulsets.apps') return false;
      let changed = false;
      for (const t of (rec(obj.spec)?.volumeClaimTemplates as unknown[]) ?? [])
        changed = mapStorageClass(rec(rec(t)?.spec), map) || changed;
      return changed;
    },
  };
}

/** The pod specs of an object: a Pod's own, a workload's template, a CronJob's job template. */
export function podSpecs(obj: KubeObject): Obj[] {
  const spec = rec(obj.spec);
  if (!spec) return [];
  if (obj.kind === 'Pod') return [spec];
  if (obj.kind === 'PodTemplate')
    return [rec(rec(obj.template)?.spec)].filter((s): s is Obj => !!s);
  const jobTemplate = rec(rec(spec.jobTemplate)?.spec);
  const template = rec(rec((jobTemplate ?? spec).template)?.spec);
  return template ? [template] : [];
}

/** `docker.io/library/nginx` with OLD `docker.io` → NEW prefix, on a registry boundary only. */
export function mapImage(image: string, map: ReadonlyMap<string, string>): string | undefined {
  for (const [from, to] of map) {
    if (image === from || image.startsWith(`${from}/`)) return to + image.slice(from.length);
  }
  return undefined;
}

/** --image-registry-mapping: every container of every pod template, init and ephemeral too. */
export function imageRegistryRule(map: ReadonlyMap<string, string>): CodeRule {
  return {
    name: `--image-registry-mapping ${[...map].map(([a, b]) => `${a}=${b}`).join(',')}`,
    apply(obj) {
      let changed = false;
      for (const spec of podSpecs(obj)) {
        for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
          for (const c of (spec[list] as unknown[]) ?? []) {
            const r = rec(c);
            const next = typeof r?.image === 'string' ? mapImage(r.image, map) : undefined;
            if (r && next !== undefined) {
              r.image = next;
              changed = true;
            }
          }
        }
      }
      return changed;
    },
  };
}

/** --replicas-to-zero: Deployments, StatefulSets (and ReplicaSets) come back scaled down. */
export const replicasToZeroRule: CodeRule = {
  name: '--replicas-to-zero',
  apply(obj, ctx) {
    if (!['deployments.apps', 'statefulsets.apps', 'replicasets.apps'].includes(ctx.resource))
      return false;
    const spec = rec(obj.spec);
    if (!spec || spec.replicas === 0) return false;
    spec.replicas = 0;
    return true;
  },
};

/** Label and annotation keys by which Argo CD and Flux recognise the objects they manage. */
export function isGitOpsTrackingKey(key: string): boolean {
  return (
    key === 'argocd.argoproj.io/instance' ||
    key === 'argocd.argoproj.io/tracking-id' ||
    key.startsWith('kustomize.toolkit.fluxcd.io/') ||
    key.startsWith('helm.toolkit.fluxcd.io/')
  );
}

export const GITOPS_RULE_NAME = 'gitops-tracking-removal';

/**
 * On a namespace clone, the copies would be taken by Argo CD or Flux for the objects they
 * manage (and pruned or overwritten): their tracking labels and annotations go. `cloned`:
 * whether an object lands in a mapped namespace (its source namespace, or for a Namespace
 * object its own name, is a --namespace-mapping source).
 */
export function gitOpsTrackingRule(mapping: ReadonlyMap<string, string>): CodeRule {
  return {
    name: GITOPS_RULE_NAME,
    apply(obj, ctx) {
      const source = ctx.resource === 'namespaces' ? undefined : ctx.namespace;
      const cloned =
        source !== undefined
          ? mapping.has(source)
          : ctx.resource === 'namespaces' && [...mapping.values()].includes(obj.metadata.name);
      if (!cloned) return false;
      let changed = false;
      for (const field of ['labels', 'annotations'] as const) {
        const m = obj.metadata[field];
        if (!m) continue;
        for (const k of Object.keys(m)) {
          if (isGitOpsTrackingKey(k)) {
            delete m[k];
            changed = true;
          }
        }
        // The server drops an empty map: left here, the copy would differ from what it stores.
        if (Object.keys(m).length === 0) delete obj.metadata[field];
      }
      return changed;
    },
  };
}
