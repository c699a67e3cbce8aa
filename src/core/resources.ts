// Which resource types a backup or restore takes: kubectl-style names in
// --include-resources/--exclude-resources, and the types left out by default.
import { UserError } from './errors.js';
import { parseSelector } from './selectors.js';
import { qualifiedResource, type ResourceType } from './types.js';

export interface NamedType extends ResourceType {
  singular?: string;
  shortNames?: string[];
}

/**
 * Left out unless named in --include-resources: the cluster regenerates them (events,
 * node state) or they are not objects a user owns. Aggregated metrics are read-only views.
 */
export const DEFAULT_EXCLUDED = new Set([
  'events',
  'events.events.k8s.io',
  'nodes',
  'componentstatuses',
  'csinodes.storage.k8s.io',
  'volumeattachments.storage.k8s.io',
  'leases.coordination.k8s.io',
]);
export const DEFAULT_EXCLUDED_GROUPS = new Set(['metrics.k8s.io']);

/**
 * kubectl's short names of built-in types, for matching where no discovery document is at
 * hand (restore and diff filter a snapshot's contents before contacting the cluster).
 */
const BUILTIN_SHORT_NAMES: Record<string, string[]> = {
  configmaps: ['cm'],
  deployments: ['deploy'],
  services: ['svc'],
  serviceaccounts: ['sa'],
  namespaces: ['ns'],
  persistentvolumeclaims: ['pvc'],
  persistentvolumes: ['pv'],
  replicasets: ['rs'],
  statefulsets: ['sts'],
  daemonsets: ['ds'],
  cronjobs: ['cj'],
  pods: ['po'],
  ingresses: ['ing'],
  networkpolicies: ['netpol'],
  horizontalpodautoscalers: ['hpa'],
  poddisruptionbudgets: ['pdb'],
  customresourcedefinitions: ['crd', 'crds'],
  endpoints: ['ep'],
  resourcequotas: ['quota'],
  limitranges: ['limits'],
  storageclasses: ['sc'],
  priorityclasses: ['pc'],
  events: ['ev'],
};

/**
 * True when `pattern` names the type the way kubectl accepts it: plural, singular, kind,
 * short name, `plural.group`, or `*`. Matching is case-insensitive.
 */
export function matchesResource(t: NamedType, pattern: string): boolean {
  const p = pattern.trim().toLowerCase();
  if (p === '*') return true;
  const dot = p.indexOf('.');
  const name = dot < 0 ? p : p.slice(0, dot);
  const group = dot < 0 ? undefined : p.slice(dot + 1);
  if (group !== undefined && group !== t.group.toLowerCase()) return false;
  return (
    name === t.resource ||
    name === t.singular ||
    name === t.kind.toLowerCase() ||
    (t.shortNames ?? BUILTIN_SHORT_NAMES[t.resource] ?? []).some((s) => s.toLowerCase() === name)
  );
}

/** The names of each type besides plural and kind, by qualified resource (`plural.group`). */
export type TypeNames = ReadonlyMap<string, Pick<NamedType, 'singular' | 'shortNames'>>;

/**
 * The other names of the snapshot's types as the backup's discovery recorded them, completed
 * by the cluster's discovery (`served`) for types a snapshot recorded none of (older snapshots,
 * Velero backups): a restore filter then resolves names exactly as the backup did.
 */
export function typeNamesOf(
  recorded: readonly (Pick<NamedType, 'singular' | 'shortNames'> & { resource: string })[],
  served: readonly NamedType[] = [],
): TypeNames {
  const names = new Map<string, Pick<NamedType, 'singular' | 'shortNames'>>();
  for (const t of served) {
    if (t.singular || t.shortNames?.length)
      names.set(qualifiedResource(t), { singular: t.singular, shortNames: t.shortNames });
  }
  for (const r of recorded) {
    if (r.singular || r.shortNames?.length)
      names.set(r.resource, { singular: r.singular, shortNames: r.shortNames });
  }
  return names;
}

/** `t` with the other names `names` knows for it. */
export function withNames(t: ResourceType, names: TypeNames | undefined): NamedType {
  const known = names?.get(qualifiedResource(t));
  return known ? { ...t, ...known } : t;
}

/** Splits repeatable, comma-separated flag values. */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

export interface TypeFilter {
  include: string[];
  exclude: string[];
}

/** Applies include/exclude and the default exclusions; include of a default-excluded type wins. */
export function selectTypes<T extends NamedType>(types: T[], filter: TypeFilter): T[] {
  const explicitlyIncluded = (t: T) =>
    filter.include.some((p) => p !== '*' && matchesResource(t, p));
  return types.filter((t) => {
    if (filter.exclude.some((p) => matchesResource(t, p))) return false;
    if (filter.include.length > 0 && !filter.include.some((p) => matchesResource(t, p)))
      return false;
    const q = qualifiedResource(t);
    if ((DEFAULT_EXCLUDED.has(q) || DEFAULT_EXCLUDED_GROUPS.has(t.group)) && !explicitlyIncluded(t))
      return false;
    return true;
  });
}

/** The patterns that name none of `types` (`*` names them all). */
export function unknownPatterns(
  types: readonly NamedType[],
  patterns: readonly string[],
): string[] {
  return patterns.filter((p) => p !== '*' && !types.some((t) => matchesResource(t, p)));
}

/** Every pattern must name a known type, so a typo is an error rather than an empty backup. */
export function assertPatternsKnown(types: NamedType[], patterns: string[], flag: string): void {
  const [p] = unknownPatterns(types, patterns);
  if (p !== undefined) {
    throw new UserError(
      `${flag}: the server has no resource type "${p}"`,
      'list the types with: kubectl api-resources',
    );
  }
}

/** Validates a label selector's syntax the way the API server will read it. */
export function validateLabelSelector(selector: string): void {
  parseSelector(selector);
}

/** The API groups Kubernetes serves itself: a type in one of them is never a custom resource. */
const BUILT_IN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'metrics.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'rbac.authorization.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
]);

/** Whether a type of this API group may be a custom resource (the group is not built in). */
export function isCustomGroup(group: string): boolean {
  return !BUILT_IN_GROUPS.has(group);
}

/** Whether a qualified resource (`plural.group`) may be a custom resource (not built in). */
export function isCustomResource(qualified: string): boolean {
  const dot = qualified.indexOf('.');
  return isCustomGroup(dot < 0 ? '' : qualified.slice(dot + 1));
}
