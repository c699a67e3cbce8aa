// Does a rule's conditions select an object? Matched against the object as it was before any
// rule changed it, with the namespace it was backed up from (as Velero does). Pure.
import type { KubeObject } from '../../core/types.js';
import { getPointer, jsonEqual } from './json-patch.js';
import type { Conditions, LabelSelector } from './rules.js';

/** Where an object comes from: its qualified resource (`deployments.apps`) and source namespace. */
export interface ObjectContext {
  resource: string;
  namespace?: string;
}

function labelsMatch(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key] as string);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export function conditionsMatch(c: Conditions, obj: KubeObject, ctx: ObjectContext): boolean {
  // Namespaces apply to namespaced objects only; `*` is every namespace.
  if (ctx.namespace !== undefined && c.namespaces && c.namespaces.length > 0) {
    if (!c.namespaces.includes('*') && !c.namespaces.includes(ctx.namespace)) return false;
  }
  if (!c.groupResource.test(ctx.resource)) return false;
  if (c.resourceNameRegex && !c.resourceNameRegex.test(obj.metadata.name)) return false;
  if (c.labelSelector && !labelsMatch(c.labelSelector, obj.metadata.labels ?? {})) return false;
  for (const m of c.matches ?? []) {
    const r = getPointer(obj, m.path);
    if (!r.found || !jsonEqual(r.value, m.value)) return false;
  }
  return true;
}
