// Pure decisions of a backup: which types to list where, and which cluster-scoped objects
// an `auto` backup pulls in because included objects depend on them (core/closure.ts).
import { ClosureFacts } from '../core/closure.js';
import { UserError } from '../core/errors.js';
import { validateNamespaceName } from '../core/names.js';
import {
  assertPatternsKnown,
  matchesResource,
  type NamedType,
  selectTypes,
  unknownPatterns,
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
  /**
   * Given (a schedule's run): an --exclude-resources name the cluster does not serve is
   * reported here instead of refused. Excluding a type whose CRD was uninstalled leaves the
   * backup it meant unchanged, so it must not fail every night; on the command line it is
   * refused, since there it is most likely a typo.
   */
  onUnknownExclude?: (pattern: string) => void,
): T[] {
  const listable = types.filter((t) => t.verbs.includes('list') && t.verbs.includes('get'));
  assertPatternsKnown(listable, selection.includeResources, '--include-resources');
  if (onUnknownExclude)
    for (const p of unknownPatterns(listable, selection.excludeResources)) onUnknownExclude(p);
  else assertPatternsKnown(listable, selection.excludeResources, '--exclude-resources');
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

/**
 * The types an `auto` backup may add related cluster objects of: every readable type the user
 * did not exclude by name, whatever --include-resources says (a backup of only `kafkas` still
 * needs the Namespace object and the CRD).
 */
export function relatedTypes<T extends NamedType & { verbs: string[] }>(
  types: T[],
  selection: Selection,
): T[] {
  return types.filter(
    (t) =>
      t.verbs.includes('list') &&
      t.verbs.includes('get') &&
      !selection.excludeResources.some((p) => p !== '*' && matchesResource(t, p)),
  );
}

/** What included objects tell us about the cluster-scoped objects they need. */
export class RelatedCollector {
  readonly facts = new ClosureFacts();

  observe(type: ResourceType, obj: KubeObject): void {
    this.facts.observe(qualifiedResource(type), obj);
  }
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
