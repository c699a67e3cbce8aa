// `prune`: list the snapshots a filter selects, decide with selectForPrune, delete the rest.
import { errorMessage } from '../core/errors.js';
import type { SnapshotManifest } from '../core/types.js';
import type { SnapshotRepository } from './repository.js';
import {
  type Decision,
  matchesSnapshotFilter,
  type RetentionPolicy,
  type SnapshotFilter,
  selectForPrune,
  snapshotFilterRequirements,
} from './retention.js';

export interface PruneOptions {
  policy: RetentionPolicy;
  filter: SnapshotFilter;
  dryRun: boolean;
  now?: Date;
}

export interface PruneResult {
  location: string;
  dryRun: boolean;
  /** Snapshots the filter selected. */
  considered: number;
  keep: Decision<SnapshotManifest>[];
  remove: Decision<SnapshotManifest>[];
  /** Names actually deleted (empty with dryRun). */
  deleted: string[];
  failed: { name: string; message: string }[];
  /** Snapshots left alone because their snapshot.json is damaged (so not known to match). */
  damaged: { name: string; problem: string }[];
}

export async function runPrune(repo: SnapshotRepository, opts: PruneOptions): Promise<PruneResult> {
  const reqs = snapshotFilterRequirements(opts.filter);
  const listing = await repo.list();
  const all = listing.snapshots.filter((m) => matchesSnapshotFilter(m.labels, reqs));
  const { keep, remove } = selectForPrune(all, opts.policy, opts.now ?? new Date());
  const deleted: string[] = [];
  const failed: PruneResult['failed'] = [];
  if (!opts.dryRun) {
    for (const d of remove) {
      try {
        await repo.delete(d.snapshot.name);
        deleted.push(d.snapshot.name);
      } catch (err) {
        failed.push({ name: d.snapshot.name, message: errorMessage(err) });
      }
    }
  }
  return {
    location: repo.url,
    dryRun: opts.dryRun,
    considered: all.length,
    keep,
    remove,
    deleted,
    failed,
    damaged: listing.damaged.map((d) => ({ name: d.snapshot, problem: d.problem })),
  };
}

/** The stable JSON form of a prune result (`-o json`). */
export function pruneReport(r: PruneResult) {
  const row = (d: Decision<SnapshotManifest>) => ({
    name: d.snapshot.name,
    startedAt: d.snapshot.startedAt,
    ...(d.snapshot.expiresAt ? { expiresAt: d.snapshot.expiresAt } : {}),
    reasons: d.reasons,
  });
  return {
    location: r.location,
    dryRun: r.dryRun,
    considered: r.considered,
    keep: r.keep.map(row),
    remove: r.remove.map(row),
    deleted: r.deleted,
    failed: r.failed,
    ...(r.damaged.length > 0 ? { damaged: r.damaged } : {}),
  };
}
