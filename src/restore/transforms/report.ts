// Which rules changed each object, for the report (`restore -o json`: `transforms` on each
// result). Objects a run neither created nor compared in full (a client dry run, a skip by
// digest without a load-time transform) are transformed here to know.
import type { KubeObject } from '../../core/types.js';
import type { Transform } from './index.js';

interface Named {
  resource: string;
  namespace?: string;
  name: string;
}

export async function recordTransforms<
  R extends Named & { outcome: string; transforms?: readonly string[] },
>(
  results: R[],
  planned: readonly (Named & { materialize(): Promise<KubeObject> })[],
  transform: Transform | undefined,
): Promise<void> {
  if (!transform || transform.empty) return;
  const byKey = new Map(planned.map((p) => [`${p.resource}/${p.namespace ?? ''}/${p.name}`, p]));
  for (const r of results) {
    if (r.outcome === 'skipped') continue;
    let names = transform.changedBy(r.resource, r.namespace, r.name);
    const p = byKey.get(`${r.resource}/${r.namespace ?? ''}/${r.name}`);
    if (names === undefined && p) {
      await p.materialize();
      names = transform.changedBy(r.resource, r.namespace, r.name);
    }
    if (names && names.length > 0) r.transforms = names;
  }
}

/** The one line a clone prints when it removed GitOps tracking metadata. */
export function gitOpsNotice(
  results: readonly { transforms?: readonly string[] }[],
  rule: string,
): string | undefined {
  const n = results.filter((r) => r.transforms?.includes(rule)).length;
  if (n === 0) return undefined;
  return `note: removed Argo CD / Flux tracking labels and annotations from ${n} object(s) of the namespace clone, so their controllers do not take the copies for their own (--keep-gitops-tracking keeps them)\n`;
}
