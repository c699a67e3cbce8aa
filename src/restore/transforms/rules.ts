// A resource-modifiers file in Velero's format (`version: v1`, `resourceModifierRules`), parsed
// and checked once, before anything is read from the cluster: unknown fields, an unsupported
// operation, a bad JSON pointer, a regex that does not compile or a patch that is not YAML are
// a UserError naming the rule. Pure.
import yaml from 'js-yaml';
import { UserError } from '../../core/errors.js';
import {
  type JsonPatchOp,
  PATCH_OPS,
  type PatchError,
  type PatchOp,
  parsePointer,
} from './json-patch.js';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface Conditions {
  groupResource: RegExp;
  resourceNameRegex?: RegExp;
  namespaces?: string[];
  labelSelector?: LabelSelector;
  /** JSON pointers that must hold these values (a test each). */
  matches?: { path: string; value: unknown }[];
}

export type Patch =
  | { kind: 'json'; ops: JsonPatchOp[] }
  | { kind: 'merge'; patches: Record<string, unknown>[] }
  | { kind: 'strategic'; patches: Record<string, unknown>[] };

export interface Rule {
  /** How the report names it: `resourceModifierRules[0]`, `--replicas-to-zero`, … */
  name: string;
  conditions: Conditions;
  patch: Patch;
}

const HINT = 'see docs/transforms.md for the format (Velero resource modifiers, version v1)';

function fail(where: string, what: string): never {
  throw new UserError(`resource modifiers: ${where}: ${what}`, HINT);
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, 'must be a mapping');
  return v as Record<string, unknown>;
}

function only(o: Record<string, unknown>, keys: string[], where: string): void {
  for (const k of Object.keys(o))
    if (!keys.includes(k)) fail(where, `unknown field "${k}" (known: ${keys.join(', ')})`);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') fail(where, 'must be a string');
  return v;
}

/** Velero's `value` is a string read as JSON when it looks like JSON (a number, true, {…}). */
export function patchValue(v: unknown): unknown {
  if (typeof v !== 'string') return v ?? '';
  if (v === '') return '';
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1);
  if (v === 'null') return null;
  if (/^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  if (v.startsWith('{') || v.startsWith('[')) {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v.trim())) return Number(v);
  return v;
}

function pointer(v: unknown, where: string): string {
  const p = str(v, where);
  if (p === '') fail(where, 'path cannot be empty');
  try {
    parsePointer(p);
  } catch (err) {
    fail(where, (err as PatchError).message);
  }
  return p;
}

/** gobwas-style glob with `.` as separator: `*` within a segment, `**` across, `?`, `{a,b}`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^.]*';
    else if (c === '?') re += '[^.]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) fail('groupResource', `"${glob}" has an unclosed {`);
      re += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map(escapeRe)
        .join('|')})`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function regex(v: unknown, where: string): RegExp {
  const s = str(v, where);
  try {
    return new RegExp(s);
  } catch (err) {
    fail(where, `the regex does not compile: ${(err as Error).message}`);
  }
}

function conditionsOf(v: unknown, where: string): Conditions {
  const c = record(v, where);
  only(c, ['groupResource', 'resourceNameRegex', 'namespaces', 'labelSelector', 'matches'], where);
  const gr = str(c.groupResource ?? '', `${where}.groupResource`);
  if (gr === '') fail(`${where}.groupResource`, 'cannot be empty');
  const out: Conditions = { groupResource: globToRegExp(gr) };
  if (c.resourceNameRegex !== undefined && c.resourceNameRegex !== '')
    out.resourceNameRegex = regex(c.resourceNameRegex, `${where}.resourceNameRegex`);
  if (c.namespaces !== undefined) {
    if (!Array.isArray(c.namespaces)) fail(`${where}.namespaces`, 'must be a list');
    out.namespaces = c.namespaces.map((n, i) => str(n, `${where}.namespaces[${i}]`));
  }
  if (c.labelSelector !== undefined) {
    const ls = record(c.labelSelector, `${where}.labelSelector`);
    only(ls, ['matchLabels', 'matchExpressions'], `${where}.labelSelector`);
    for (const [i, e] of ((ls.matchExpressions as unknown[]) ?? []).entries()) {
      const x = record(e, `${where}.labelSelector.matchExpressions[${i}]`);
      if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(String(x.operator)))
        fail(`${where}.labelSelector.matchExpressions[${i}]`, `unknown operator "${x.operator}"`);
    }
    out.labelSelector = ls as LabelSelector;
  }
  if (c.matches !== undefined) {
    if (!Array.isArray(c.matches)) fail(`${where}.matches`, 'must be a list');
    out.matches = c.matches.map((m, i) => {
      const w = `${where}.matches[${i}]`;
      const r = record(m, w);
      only(r, ['path', 'value'], w);
      return { path: pointer(r.path, `${w}.path`), value: patchValue(r.value) };
    });
  }
  return out;
}

function patchData(list: unknown, where: string): Record<string, unknown>[] {
  if (!Array.isArray(list)) fail(where, 'must be a list');
  return list.map((p, i) => {
    const w = `${where}[${i}]`;
    const r = record(p, w);
    only(r, ['patchData'], w);
    let data: unknown;
    try {
      data = typeof r.patchData === 'string' ? yaml.load(r.patchData) : r.patchData;
    } catch (err) {
      fail(`${w}.patchData`, `is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
    }
    return record(data, `${w}.patchData`);
  });
}

function jsonOps(list: unknown, where: string): JsonPatchOp[] {
  if (!Array.isArray(list)) fail(where, 'must be a list');
  return list.map((p, i) => {
    const w = `${where}[${i}]`;
    const r = record(p, w);
    only(r, ['operation', 'path', 'from', 'value'], w);
    const op = str(r.operation ?? '', `${w}.operation`).toLowerCase() as PatchOp;
    if (!PATCH_OPS.includes(op))
      fail(`${w}.operation`, `unsupported operation "${r.operation}" (${PATCH_OPS.join(', ')})`);
    const out: JsonPatchOp = { op, path: pointer(r.path ?? '', `${w}.path`) };
    if (op === 'move' || op === 'copy') out.from = pointer(r.from ?? '', `${w}.from`);
    if (op === 'add' || op === 'replace' || op === 'test') out.value = patchValue(r.value);
    return out;
  });
}

/** Parses and validates a rules file's text (YAML or JSON). */
export function parseRules(text: string, source: string): Rule[] {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (err) {
    throw new UserError(
      `resource modifiers ${source}: not YAML: ${(err as Error).message.split('\n')[0]}`,
      HINT,
    );
  }
  const top = record(doc, source);
  only(top, ['version', 'resourceModifierRules'], source);
  if (String(top.version ?? '').toLowerCase() !== 'v1')
    fail(source, `unsupported version "${top.version ?? ''}" (this version reads v1)`);
  const rules = top.resourceModifierRules;
  if (!Array.isArray(rules) || rules.length === 0)
    fail(source, 'resourceModifierRules cannot be empty');
  return rules.map((r, i) => {
    const name = `resourceModifierRules[${i}]`;
    const o = record(r, name);
    only(o, ['conditions', 'patches', 'mergePatches', 'strategicPatches'], name);
    const given = (['patches', 'mergePatches', 'strategicPatches'] as const).filter(
      (k) => o[k] !== undefined && (o[k] as unknown[]).length !== 0,
    );
    if (given.length !== 1)
      fail(name, 'give exactly one of patches, mergePatches, strategicPatches');
    const conditions = conditionsOf(o.conditions ?? {}, `${name}.conditions`);
    const patch: Patch =
      given[0] === 'patches'
        ? { kind: 'json', ops: jsonOps(o.patches, `${name}.patches`) }
        : given[0] === 'mergePatches'
          ? { kind: 'merge', patches: patchData(o.mergePatches, `${name}.mergePatches`) }
          : {
              kind: 'strategic',
              patches: patchData(o.strategicPatches, `${name}.strategicPatches`),
            };
    return { name, conditions, patch };
  });
}

/** The one rules document of a Velero ConfigMap (it must hold exactly one data key). */
export function rulesOfConfigMap(data: Record<string, string> | undefined, ref: string): Rule[] {
  const values = Object.values(data ?? {});
  if (values.length !== 1)
    throw new UserError(
      `resource modifiers ${ref}: the ConfigMap must hold exactly one data key, it has ${values.length}`,
      HINT,
    );
  return parseRules(values[0] as string, ref);
}
