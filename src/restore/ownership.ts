// Field ownership on restore (issue 18): which managedFields entries of the backed-up object a
// restored object gets back, so the managers that set its fields (an operator's server-side
// apply, a controller) still own them and re-apply their own manifests without conflicts.
// Pure: no I/O. The runner that sends them is ownership-run.ts.
//
// Why a patch after the create: the API server replaces managedFields sent with a create by
// the creating manager's entry; a merge patch of metadata.managedFields right after keeps them.

import { isRawNumber } from '../core/json.js';
import type { KubeObject } from '../core/types.js';

/** The field manager of the restore's creates and of its ownership patch. */
export const RESTORE_MANAGER = 'kubectl-snapshot';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: FieldSet;
  subresource?: string;
}

/** A FieldsV1 tree: `f:name`, `k:{…}`, `v:…`, `i:N` children; `.` for the node itself. */
export type FieldSet = { [key: string]: FieldSet };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether an entry is one the API server accepts (validation of ObjectMeta.managedFields). */
export function wellFormed(e: unknown): e is ManagedFieldsEntry {
  if (!isRecord(e)) return false;
  const optionalString = (v: unknown) => v === undefined || v === null || typeof v === 'string';
  return (
    typeof e.manager === 'string' &&
    e.manager.length > 0 &&
    e.manager.length <= 128 &&
    (e.operation === 'Apply' || e.operation === 'Update') &&
    typeof e.apiVersion === 'string' &&
    e.apiVersion.length > 0 &&
    e.fieldsType === 'FieldsV1' &&
    isFieldSet(e.fieldsV1) &&
    optionalString(e.time) &&
    optionalString(e.subresource)
  );
}

function isFieldSet(v: unknown): v is FieldSet {
  return isRecord(v) && Object.values(v).every(isFieldSet);
}

/** The restore's own entry: replaced by the one computed here, never carried over. */
function isRestoreEntry(e: ManagedFieldsEntry): boolean {
  return e.manager === RESTORE_MANAGER && e.operation === 'Update' && !e.subresource;
}

/** Which entry a manager writes to: the API server keeps one per manager, operation, subresource. */
export function entryKey(e: ManagedFieldsEntry): string {
  return `${e.manager}\u0000${e.operation}\u0000${e.subresource ?? ''}`;
}

// ---- resolving FieldsV1 keys against an object ----

const ABSENT = Symbol('absent');
type Value = unknown | typeof ABSENT;

/** The child of `value` a FieldsV1 key names, or ABSENT. */
function child(value: Value, key: string): Value {
  if (value === ABSENT) return ABSENT;
  const kind = key.slice(0, 2);
  const rest = key.slice(2);
  if (kind === 'f:') return isRecord(value) && rest in value ? value[rest] : ABSENT;
  if (!Array.isArray(value)) return ABSENT;
  try {
    if (kind === 'i:') {
      const i = Number(rest);
      return Number.isInteger(i) && i >= 0 && i < value.length ? value[i] : ABSENT;
    }
    if (kind === 'v:') {
      const wanted = JSON.parse(rest) as unknown;
      return value.find((x) => equal(x, wanted)) ?? ABSENT;
    }
    if (kind === 'k:') {
      const keys = JSON.parse(rest) as Record<string, unknown>;
      return (
        value.find(
          (x) => isRecord(x) && Object.entries(keys).every(([k, v]) => k in x && equal(x[k], v)),
        ) ?? ABSENT
      );
    }
  } catch {
    return ABSENT; // a key that is not JSON resolves to nothing
  }
  return ABSENT;
}

/** Deep equality of parsed JSON (raw numbers by their value; key order ignored). */
export function equal(a: unknown, b: unknown): boolean {
  if (isRawNumber(a) || isRawNumber(b)) return numberText(a) === numberText(b);
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => equal(x, b[i]));
  }
  if (!isRecord(a) || !isRecord(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => k in b && equal(a[k], b[k]));
}

function numberText(v: unknown): string {
  return isRawNumber(v) ? v.rawJSON : JSON.stringify(v);
}

/**
 * Walks `set` against the object before (as backed up) and after the restore changed it
 * (as sent). `keepLeaf` decides each owned leaf; `.` (the node itself) is kept by `keepSelf`.
 * Answers the pruned set, or undefined when nothing of it is kept.
 */
function prune(
  set: FieldSet,
  before: Value,
  after: Value,
  keep: {
    leaf: (before: Value, after: Value) => boolean;
    self: (before: Value, after: Value) => boolean;
  },
): FieldSet | undefined {
  const out: FieldSet = {};
  for (const [key, sub] of Object.entries(set)) {
    if (key === '.') {
      if (keep.self(before, after)) out[key] = {};
      continue;
    }
    const b = child(before, key);
    const a = child(after, key);
    if (Object.keys(sub).length === 0) {
      if (keep.leaf(b, a)) out[key] = {};
      continue;
    }
    const kept = prune(sub, b, a, keep);
    if (kept) out[key] = kept;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A field the restore left as it was: kept by its owners. */
const unchanged = (b: Value, a: Value) => a !== ABSENT && b !== ABSENT && equal(b, a);

/** A field the restore set or changed (not one it removed: nobody owns what is absent). */
const changed = (b: Value, a: Value) => a !== ABSENT && (b === ABSENT || !equal(b, a));

export interface OwnersInput {
  /** The object as the archive holds it, managedFields included. */
  archived: KubeObject;
  /** What the restore created: sanitised, mapped and transformed. */
  sent: KubeObject;
  /** The restore's own entry in the create's answer (the server's field set of the create). */
  created?: ManagedFieldsEntry;
}

/**
 * The managedFields to give a restored object, or undefined when none of the backup's
 * entries survives (the object then keeps the server's entry of the create):
 * - only well-formed entries; status entries are left out (status is never restored);
 * - the restore's own earlier entry is left out (its fields are decided anew below);
 * - an entry at the object's apiVersion keeps the fields the restore left unchanged: a field
 *   sanitising removed (a cluster IP, an owner reference) or a transform changed is no longer
 *   its manager's. A mapped namespace changes no field set (metadata.namespace is not in
 *   them), but the subjects and claimRef namespaces it rewrites are changed fields;
 * - an entry at another apiVersion is kept as it is: the server converts field sets between
 *   versions, and drops entries of versions it does not serve;
 * - the fields the restore set or changed (of the create's field set) belong to
 *   `kubectl-snapshot`, in one Update entry: the original manager re-applying its old value
 *   then gets a conflict naming the restore, never silently undoing a transform.
 */
export function restoredOwners(input: OwnersInput): ManagedFieldsEntry[] | undefined {
  const { archived, sent } = input;
  const raw = archived.metadata.managedFields;
  if (!Array.isArray(raw)) return undefined;
  const out: ManagedFieldsEntry[] = [];
  const seen = new Set<string>();
  for (const e of raw) {
    if (!wellFormed(e) || isRestoreEntry(e) || e.subresource === 'status') continue;
    if (seen.has(entryKey(e))) continue; // the server refuses two entries with one key
    const fields =
      e.apiVersion === sent.apiVersion
        ? prune(e.fieldsV1, archived, sent, { leaf: unchanged, self: unchanged })
        : e.fieldsV1;
    if (!fields) continue;
    seen.add(entryKey(e));
    out.push({ ...withoutNulls(e), fieldsV1: fields });
  }
  if (out.length === 0) return undefined;
  const mine = input.created
    ? prune(input.created.fieldsV1, archived, sent, {
        leaf: changed,
        self: (b, a) => a !== ABSENT && b === ABSENT,
      })
    : undefined;
  if (mine && input.created)
    out.push({
      manager: RESTORE_MANAGER,
      operation: 'Update',
      apiVersion: sent.apiVersion,
      ...(input.created.time ? { time: input.created.time } : {}),
      fieldsType: 'FieldsV1',
      fieldsV1: mine,
    });
  return out;
}

function withoutNulls(e: ManagedFieldsEntry): ManagedFieldsEntry {
  const out = { ...e };
  if (out.time === null || out.time === undefined) delete out.time;
  if (out.subresource === null || out.subresource === undefined || out.subresource === '')
    delete out.subresource;
  return out;
}

/**
 * The list to send: the backup's entries, then the entries other managers wrote since the
 * create (a controller's status, an annotation), which win over a backed-up entry of the
 * same key because they describe the object as it is now.
 */
export function ownersPatchList(
  restored: readonly ManagedFieldsEntry[],
  current: readonly unknown[] | undefined,
): ManagedFieldsEntry[] {
  const now = (current ?? []).filter(wellFormed).filter((e) => !isRestoreEntry(e));
  const taken = new Set(now.map(entryKey));
  return [...restored.filter((e) => !taken.has(entryKey(e))), ...now];
}

/** The restore's own entry in an object as served (the create's answer), if any. */
export function restoreEntry(obj: KubeObject | undefined): ManagedFieldsEntry | undefined {
  const list = obj?.metadata?.managedFields;
  if (!Array.isArray(list)) return undefined;
  return list.filter(wellFormed).find(isRestoreEntry);
}

/** The prefix of a created object's message when its field owners could not be restored. */
export const OWNERS_NOT_RESTORED = 'field owners not restored: ';

/**
 * What the server kept of what was sent: undefined when every manager of the backup is
 * there, else the message of a created object whose field owners were (partly) lost.
 */
export function ownersOutcome(
  sent: readonly ManagedFieldsEntry[],
  answer: KubeObject | undefined,
): string | undefined {
  const kept = new Set(
    (answer?.metadata?.managedFields ?? []).filter(wellFormed).map((e) => entryKey(e)),
  );
  const wanted = sent.filter((e) => !isRestoreEntry(e));
  const lost = wanted.filter((e) => !kept.has(entryKey(e)));
  if (lost.length === 0) return undefined;
  const names = [...new Set(lost.map((e) => e.manager))].join(', ');
  if (lost.length === wanted.length)
    return `${OWNERS_NOT_RESTORED}the API server kept none of the ${wanted.length} entries (${names}); kubectl-snapshot owns the fields`;
  return `${OWNERS_NOT_RESTORED}the API server dropped the entries of ${names}`;
}
