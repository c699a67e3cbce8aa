// Restore-time transforms: the rules of --resource-modifiers (Velero's format) and the
// shortcut flags, applied to each object after it is sanitised and mapped, in the pure
// planning step. The same transform makes the load's digests, so `exists (identical)` compares
// the transformed object. Each application records which rules changed the object, for the
// report.
import { UserError } from '../../core/errors.js';
import { cloneJson } from '../../core/json.js';
import type { KubeObject } from '../../core/types.js';
import { conditionsMatch, type ObjectContext } from './conditions.js';
import { applyJsonPatch, jsonEqual, PatchError } from './json-patch.js';
import { mergePatch } from './merge-patch.js';
import type { Rule } from './rules.js';
import type { CodeRule } from './shortcuts.js';
import { strategicMergePatch } from './strategic.js';

export type { ObjectContext } from './conditions.js';

export class Transform {
  /** Target `resource/namespace/name` → the rules that changed it (only objects changed). */
  private readonly changed = new Map<string, readonly string[]>();
  private readonly seen = new Set<string>();

  constructor(
    readonly rules: readonly Rule[],
    readonly code: readonly CodeRule[],
  ) {}

  get empty(): boolean {
    return this.rules.length === 0 && this.code.length === 0;
  }

  /**
   * Transforms `obj` (sanitised and mapped, owned by the caller) in place and returns it.
   * `ctx` says where it came from: conditions name the namespace it was backed up from.
   * A patch path that does not exist is a UserError naming the object and the rule.
   */
  apply(obj: KubeObject, ctx: ObjectContext): KubeObject {
    const names: string[] = [];
    // Conditions see the object before any rule changed it (Velero's order).
    const original = this.rules.length > 1 ? cloneJson(obj) : obj;
    for (const rule of this.rules) {
      if (!conditionsMatch(rule.conditions, original, ctx)) continue;
      if (applyRule(rule, obj, ctx)) names.push(rule.name);
    }
    for (const rule of this.code) if (rule.apply(obj, ctx)) names.push(rule.name);
    const key = `${ctx.resource}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    this.seen.add(key);
    if (names.length > 0) this.changed.set(key, names);
    return obj;
  }

  /** The rules that changed an object (by its target place), once it was transformed. */
  changedBy(
    resource: string,
    namespace: string | undefined,
    name: string,
  ): readonly string[] | undefined {
    const key = `${resource}/${namespace ?? ''}/${name}`;
    return this.seen.has(key) ? (this.changed.get(key) ?? []) : undefined;
  }
}

function applyRule(rule: Rule, obj: KubeObject, ctx: ObjectContext): boolean {
  const doc = obj as unknown as Record<string, unknown>;
  const before = cloneJson(doc);
  try {
    if (rule.patch.kind === 'json') {
      if (!applyJsonPatch(doc, rule.patch.ops)) return false;
    } else {
      let next = doc;
      for (const p of rule.patch.patches)
        next = (
          rule.patch.kind === 'merge' ? mergePatch(next, p) : strategicMergePatch(obj.kind, next, p)
        ) as Record<string, unknown>;
      for (const k of Object.keys(doc)) delete doc[k];
      Object.assign(doc, next);
    }
  } catch (err) {
    if (!(err instanceof PatchError)) throw err;
    const where = `${ctx.resource}/${obj.metadata.name}${ctx.namespace ? ` in ${ctx.namespace}` : ''}`;
    throw new UserError(
      `resource modifiers: ${rule.name} cannot be applied to ${where}: ${err.message}`,
      'narrow its conditions, or guard it with a test operation of the path',
    );
  }
  return !jsonEqual(before, doc);
}
