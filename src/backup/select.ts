// Pure decisions of a backup: which types to list where, and which cluster-scoped objects
// an `auto` backup pulls in because included objects depend on them.
import { UserError } from '../core/errors.js';
import { validateNamespaceName } from '../core/names.js';
import {
  assertPatternsKnown,
  type NamedType,
  selectTypes,
  validateLabelSelector,
} from '../core/resources.js';
import {
  type KubeObject,
  qualifiedResource,
  type ResourceType,
  type Selection,
} from '../core/types.js';

export interface ListJob<T extends ResourceType = ResourceType> {
  type: T;
  /** Undefined: across all namespaces (namespaced types) or cluster-scoped. */
  namespace?: string;
}

export function listableTypes<T extends NamedType & { verbs: string[] }>(
  types: T[],
  selection: Selection,
): T[] {
  const listable = types.filter((t) => t.verbs.includes('list') && t.verbs.includes('get'));
  assertPatternsKnown(listable, selection.includeResources, '--include-resources');
  assertPatternsKnown(listable, selection.excludeResources, '--exclude-resources');
  return selectTypes(listable, {
    include: selection.includeResources,
    exclude: selection.excludeResources,
  });
}

/**
 * Namespaced types are listed per namespace when namespaces are named (so a user with only
 * namespace Roles can back up), or once across the cluster with -A (fewer requests).
 */
export function planListJobs<T extends ResourceType>(
  types: T[],
  selection: Selection,
  namespaces: string[],
): ListJob<T>[] {
  const jobs: ListJob<T>[] = [];
  for (const type of types) {
    if (type.namespaced) {
      if (selection.allNamespaces) jobs.push({ type });
      else for (const namespace of namespaces) jobs.push({ type, namespace });
    } else if (selection.includeClusterResources === 'true') {
      jobs.push({ type });
    }
  }
  // Big collections first keeps the parallel listers busy to the end.
  const weight = (t: ResourceType) =>
    ['secrets', 'configmaps', 'pods'].includes(t.resource) ? 0 : 1;
  return jobs.sort((a, b) => weight(a.type) - weight(b.type));
}

/** What included objects tell us about the cluster-scoped objects they need. */
export class RelatedCollector {
  readonly persistentVolumes = new Set<string>();
  /** `namespace/name` of every included ServiceAccount. */
  readonly serviceAccounts = new Set<string>();
  /** Qualified names (`plural.group`) of types that had at least one object. */
  readonly typesWithObjects = new Set<string>();

  observe(type: ResourceType, obj: KubeObject): void {
    this.typesWithObjects.add(qualifiedResource(type));
    if (type.group === '' && type.resource === 'persistentvolumeclaims') {
      const vol = (obj.spec as { volumeName?: string } | undefined)?.volumeName;
      if (vol) this.persistentVolumes.add(vol);
    }
    if (type.group === '' && type.resource === 'serviceaccounts') {
      this.serviceAccounts.add(`${obj.metadata.namespace}/${obj.metadata.name}`);
    }
  }

  /** CRD names (`plural.group`) of included custom resources, given the cluster's CRDs. */
  crdNames(crds: KubeObject[]): string[] {
    return crds.map((c) => c.metadata.name).filter((n) => this.typesWithObjects.has(n));
  }

  /** ClusterRoleBindings with a subject that is an included ServiceAccount. */
  clusterRoleBindings(all: KubeObject[]): KubeObject[] {
    return all.filter((crb) =>
      (
        (crb.subjects as { kind?: string; name?: string; namespace?: string }[] | undefined) ?? []
      ).some(
        (s) => s.kind === 'ServiceAccount' && this.serviceAccounts.has(`${s.namespace}/${s.name}`),
      ),
    );
  }
}

/** ClusterRoles named by the given bindings' roleRef. */
export function clusterRolesOf(bindings: KubeObject[]): string[] {
  const names = new Set<string>();
  for (const b of bindings) {
    const ref = b.roleRef as { kind?: string; name?: string } | undefined;
    if (ref?.kind === 'ClusterRole' && ref.name) names.add(ref.name);
  }
  return [...names];
}

/** The checks of a selection that need no cluster: every command that backs up runs them first. */
export function validateSelection(sel: Selection): void {
  if (!sel.allNamespaces && sel.namespaces.length === 0) {
    throw new UserError(
      'no namespace selected',
      'pass -n NAMESPACE (repeatable) or -A for all namespaces',
    );
  }
  if (sel.allNamespaces && sel.namespaces.length > 0) {
    throw new UserError(
      '-n and -A cannot be combined',
      'use -A with --exclude-namespace to leave some out',
    );
  }
  for (const ns of [...sel.namespaces, ...sel.excludeNamespaces]) validateNamespaceName(ns);
  if (sel.labelSelector !== undefined) validateLabelSelector(sel.labelSelector);
  if (!['auto', 'true', 'false'].includes(sel.includeClusterResources)) {
    throw new UserError(
      `--include-cluster-resources must be auto, true or false, not "${sel.includeClusterResources}"`,
    );
  }
}
