// Digests of objects in their compared form: how the skip path tells "identical" without
// keeping whole objects. Pure: no I/O.

import { createHash } from 'node:crypto';
import { isRawNumber, parseJson } from '../core/json.js';
import type { KubeObject } from '../core/types.js';
import { applyNamespaceMappingInPlace } from './mapping.js';
import { normalizeInPlace } from './normalize.js';
import { sanitizeInPlace } from './sanitize.js';
import { type Deleting, deletionOf } from './terminating.js';
import type { ObjectContext, Transform } from './transforms/index.js';

/** Appends a stable JSON form of `v` (object keys sorted) to `out`. */
function canonicalJson(v: unknown, out: string[]): void {
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i) out.push(',');
      canonicalJson(v[i] ?? null, out);
    }
    out.push(']');
  } else if (isRawNumber(v)) {
    out.push(v.rawJSON);
  } else if (v && typeof v === 'object') {
    out.push('{');
    let first = true;
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined) continue;
      out.push(first ? '' : ',', JSON.stringify(k), ':');
      first = false;
      canonicalJson(x, out);
    }
    out.push('}');
  } else out.push(JSON.stringify(v) ?? 'null');
}

/**
 * A hash of the stable JSON form of a value (for objects: normalised ones): the first 128
 * bits of its SHA-256, as 22 characters. A restore holds two per object; a false "identical"
 * would take a second preimage of 128 bits.
 */
export function digest(v: unknown): string {
  const parts: string[] = [];
  canonicalJson(v, parts);
  return createHash('sha256').update(parts.join('')).digest().toString('base64url', 0, 16);
}

/**
 * The digest a restore compares an existing object against, computed from the archived
 * object (which it changes: pass a copy you own). Equal to the digest of
 * `normalizeInPlace(materialize())` whatever the restore's node-port and volume options,
 * since the compared form leaves node ports and a claim's volume out either way.
 */
export function wantedDigest(
  archived: KubeObject,
  mapping: ReadonlyMap<string, string>,
  transform?: { transform: Transform; context: ObjectContext; preserveNodePorts: boolean },
): string {
  // normalizeInPlace sanitises first; mapping reads nothing that sanitising removes.
  if (!transform) return digest(normalizeInPlace(applyNamespaceMappingInPlace(archived, mapping)));
  // Transforms see what the restore sends: sanitised and mapped (plan.ts preparer).
  const { preserveNodePorts } = transform;
  const mapped = applyNamespaceMappingInPlace(
    sanitizeInPlace(archived, { preserveNodePorts }),
    mapping,
  );
  return digest(normalizeInPlace(transform.transform.apply(mapped, transform.context)));
}

/** What a lookup keeps of one page of a list: each item's name and digest. */
export interface DigestedPage {
  digests: [name: string, digest: string][];
  /** Items being deleted (terminating.ts), and what holds them; absent when none. */
  deleting?: [name: string, holders: Deleting][];
  continue?: string;
}

/**
 * Parses one page of a LIST response and digests every item's compared form. List items
 * come without apiVersion and kind, so the list's own are given.
 */
export function digestListPage(body: Uint8Array, apiVersion: string, kind: string): DigestedPage {
  const page = parseJson(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString()) as {
    items?: KubeObject[];
    metadata?: { continue?: string };
  };
  const digests: [string, string][] = [];
  const deleting: [string, Deleting][] = [];
  for (const o of page.items ?? []) {
    const d = deletionOf({ ...o, kind });
    if (d) deleting.push([o.metadata.name, d]);
    digests.push([o.metadata.name, digest(normalizeInPlace({ ...o, apiVersion, kind }))]);
  }
  const cont = page.metadata?.continue;
  return {
    digests,
    ...(deleting.length > 0 ? { deleting } : {}),
    ...(cont ? { continue: cont } : {}),
  };
}
