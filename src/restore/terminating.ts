// Objects being deleted: they still answer GET and LIST, but they are about to go, so a
// restore that counted them as existing would report "exists" and leave the cluster without
// them seconds later. A real restore waits (bounded) until they are gone, then creates them;
// the dry runs and diff cannot wait and say so. Pure: the waiting is in terminating-run.ts.
import type { KubeObject } from '../core/types.js';

/** How long a restore waits for an object being deleted by default (`--wait-terminating`). */
export const DEFAULT_WAIT_TERMINATING_MS = 120_000;

/** What holds an object being deleted; undefined when it is not being deleted. */
export interface Deleting {
  /** metadata.finalizers (a Namespace's spec.finalizers too): who must let go first. */
  finalizers: string[];
  /** A Namespace's own account of what remains (its True deletion conditions). */
  remaining: string[];
}

/** Conditions a Namespace publishes while its deletion waits on content or finalizers. */
const NAMESPACE_HOLDS = new Set([
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
  'NamespaceDeletionContentFailure',
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
]);

/**
 * Whether an object is being deleted, and what holds it. A deletionTimestamp marks it; a
 * Namespace is also Terminating by its phase (the namespace controller sets both).
 */
export function deletionOf(o: KubeObject): Deleting | undefined {
  const meta = o.metadata as { deletionTimestamp?: string; finalizers?: unknown };
  const status = o.status as
    | { phase?: string; conditions?: { type?: string; status?: string; message?: string }[] }
    | undefined;
  const terminatingNamespace = o.kind === 'Namespace' && status?.phase === 'Terminating';
  if (meta.deletionTimestamp === undefined && !terminatingNamespace) return undefined;
  const spec = o.spec as { finalizers?: unknown } | undefined;
  const finalizers = [...strings(meta.finalizers), ...strings(spec?.finalizers)];
  const remaining = (status?.conditions ?? [])
    .filter((c) => c.status === 'True' && NAMESPACE_HOLDS.has(String(c.type)))
    .map((c) => String(c.message ?? c.type));
  return { finalizers: [...new Set(finalizers)], remaining };
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** "held by finalizer(s) a, b; <namespace conditions>", or why nothing is named. */
export function holdersText(d: Deleting): string {
  const parts: string[] = [];
  if (d.finalizers.length > 0) parts.push(`held by finalizer(s) ${d.finalizers.join(', ')}`);
  parts.push(...d.remaining);
  return parts.length > 0 ? parts.join('; ') : 'no finalizer named';
}

/** The failure of an object that was still being deleted when the wait ran out. */
export function stillDeletingMessage(d: Deleting, waitedMs: number): string {
  return `still being deleted after ${seconds(waitedMs)}s (--wait-terminating): ${holdersText(d)}`;
}

/** What the dry runs and diff say: they cannot wait, a real restore would. */
export function deletingNotValidated(d: Deleting, waitMs: number): string {
  const then =
    waitMs > 0
      ? `a real restore waits up to ${seconds(waitMs)}s for it to go, then creates it`
      : 'a restore with --wait-terminating 0 would fail it';
  return `being deleted (${holdersText(d)}); ${then}`;
}

/** A custom resource whose CRD the restore could not wait out or create. */
export function crdNotRestoredMessage(crd: string): string {
  return `its CRD ${crd} was not restored (see its result)`;
}

/** A custom resource whose CRD is being deleted: in a dry run or diff, not validated. */
export function crdDeletingNotValidated(crd: string): string {
  return `its CRD ${crd} is being deleted, and with it every ${crd.split('.')[0]}; a real restore waits for the CRD, then creates both`;
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** The CRD name of a type: `<plural>.<group>` (only custom resources have one). */
export function crdNameOf(type: { resource: string; group: string }): string {
  return `${type.resource}.${type.group}`;
}
