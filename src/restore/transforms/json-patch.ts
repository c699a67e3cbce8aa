// JSON Patch (RFC 6902) on plain JSON values, in place. A failed `test` is not an error: it
// means "this rule does not apply" (as in Velero), so the caller gets `false` and the object
// back unchanged. A path that does not exist (outside `test`) is a PatchError.
import { cloneJson, isRawNumber } from '../../core/json.js';

export type PatchOp = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
export const PATCH_OPS: readonly PatchOp[] = ['add', 'remove', 'replace', 'move', 'copy', 'test'];

export interface JsonPatchOp {
  op: PatchOp;
  path: string;
  from?: string;
  value?: unknown;
}

export class PatchError extends Error {}

/** `/a/b~1c` → ['a', 'b/c']; throws on a pointer that does not start with `/` or bad escapes. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw new PatchError(`"${pointer}" is not a JSON pointer: it must start with /`);
  return pointer
    .slice(1)
    .split('/')
    .map((seg) => {
      if (/~[^01]|~$/.test(seg))
        throw new PatchError(`"${pointer}" has an invalid ~ escape (use ~0 for ~, ~1 for /)`);
      return seg.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

type Container = Record<string, unknown> | unknown[];

function isContainer(v: unknown): v is Container {
  return typeof v === 'object' && v !== null;
}

function index(arr: unknown[], seg: string, forAdd: boolean, pointer: string): number {
  if (forAdd && seg === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(seg))
    throw new PatchError(`path ${pointer} does not exist (${seg} is not an array index)`);
  const i = Number(seg);
  if (i > arr.length || (!forAdd && i === arr.length))
    throw new PatchError(`path ${pointer} does not exist (index ${i} is out of range)`);
  return i;
}

/** The container holding the last segment of `pointer`, and that segment. */
function parentOf(doc: unknown, pointer: string): [Container, string] {
  const segs = parsePointer(pointer);
  if (segs.length === 0) throw new PatchError('the whole object cannot be patched by path ""');
  let cur = doc;
  for (const seg of segs.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[index(cur, seg, false, pointer)];
    else if (isContainer(cur) && Object.hasOwn(cur, seg))
      cur = (cur as Record<string, unknown>)[seg];
    else throw new PatchError(`path ${pointer} does not exist`);
  }
  if (!isContainer(cur)) throw new PatchError(`path ${pointer} does not exist`);
  return [cur, segs[segs.length - 1] as string];
}

export function getPointer(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  let cur = doc;
  for (const seg of parsePointer(pointer)) {
    if (Array.isArray(cur) && /^(0|[1-9][0-9]*)$/.test(seg) && Number(seg) < cur.length)
      cur = cur[Number(seg)];
    else if (!Array.isArray(cur) && isContainer(cur) && Object.hasOwn(cur, seg))
      cur = (cur as Record<string, unknown>)[seg];
    else return { found: false };
  }
  return { found: true, value: cur };
}

function get(doc: unknown, pointer: string): unknown {
  const r = getPointer(doc, pointer);
  if (!r.found) throw new PatchError(`path ${pointer} does not exist`);
  return r.value;
}

function add(doc: unknown, pointer: string, value: unknown): void {
  const [c, seg] = parentOf(doc, pointer);
  if (Array.isArray(c)) c.splice(index(c, seg, true, pointer), 0, value);
  else c[seg] = value;
}

function remove(doc: unknown, pointer: string): unknown {
  const [c, seg] = parentOf(doc, pointer);
  if (Array.isArray(c)) return c.splice(index(c, seg, false, pointer), 1)[0];
  if (!Object.hasOwn(c, seg)) throw new PatchError(`path ${pointer} does not exist`);
  const old = c[seg];
  delete c[seg];
  return old;
}

/** Deep equality of JSON values (object key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isContainer(a) && isContainer(b) && !isRawNumber(a) && !isRawNumber(b)) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return (
      ka.length === kb.length &&
      ka.every((k) =>
        jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  // Raw numbers (core/json.ts) compare by their digits; a number by its value.
  const num = (v: unknown) => (isRawNumber(v) ? Number(v.rawJSON) : v);
  return num(a) === num(b);
}

/**
 * Applies `ops` to `doc` in place, all or nothing: on a failed test or an error nothing is
 * changed. Returns false when a test failed (including a test of a path that does not exist).
 */
export function applyJsonPatch(doc: Record<string, unknown>, ops: readonly JsonPatchOp[]): boolean {
  const work = cloneJson(doc);
  for (const o of ops) {
    switch (o.op) {
      case 'test': {
        const r = getPointer(work, o.path);
        if (!r.found || !jsonEqual(r.value, o.value)) return false;
        break;
      }
      case 'add':
        add(work, o.path, cloneJson(o.value));
        break;
      case 'remove':
        remove(work, o.path);
        break;
      case 'replace':
        get(work, o.path);
        remove(work, o.path);
        add(work, o.path, cloneJson(o.value));
        break;
      case 'move': {
        const from = o.from as string;
        if (o.path.startsWith(`${from}/`))
          throw new PatchError(`cannot move ${from} into itself (${o.path})`);
        add(work, o.path, remove(work, from));
        break;
      }
      case 'copy':
        add(work, o.path, cloneJson(get(work, o.from as string)));
        break;
    }
  }
  for (const k of Object.keys(doc)) delete doc[k];
  Object.assign(doc, work);
  return true;
}
