// `prune`: list the snapshots a filter selects, decide with selectForPrune, delete the rest.
import { errorMessage } from '../core/errors.js';
import type { SnapshotManifest } from '../core/types.js';
import { STALE_AFTER_MS } from './lock.js';
import type { IncompleteSnapshot, SnapshotRepository } from './repository.js';
import {
  type Decision,
  matchesSnapshotFilter,
  type RetentionPolicy,
  type SnapshotFilter,
  selectForPrune,
  snapshotFilterRequirements,
} from './retention.js';
import { isScheduledSnapshotName } from './scheduled.js';

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
  /** Leftovers of backups that died over a day ago, removed (or, with dryRun, to remove). */
  leftovers: string[];
}

export async function runPrune(repo: SnapshotRepository, opts: PruneOptions): Promise<PruneResult> {
  const reqs = snapshotFilterRequirements(opts.filter);
  const now = opts.now ?? new Date();
  const listing = await repo.list(now);
  const all = listing.snapshots.filter((m) => matchesSnapshotFilter(m.labels, reqs));
  const leftovers = listing.incomplete
    .filter((i) => !i.live && isStale(i, now) && leftoverMatches(i.name, opts.filter))
    .map((i) => i.name);
  const { keep, remove } = selectForPrune(all, opts.policy, now);
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
    for (const name of leftovers) {
      await repo.delete(name, now).catch((err: unknown) => {
        failed.push({ name, message: errorMessage(err) });
      });
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
    leftovers,
  };
}

/** A killed backup's files, a day after it started (or, without a lock, after they were written). */
function isStale(i: IncompleteSnapshot, now: Date): boolean {
  const since = i.lock ? Date.parse(i.lock.startedAt) : i.lastModified.getTime();
  return Number.isNaN(since) || now.getTime() - since >= STALE_AFTER_MS;
}

/** Leftovers carry no labels: only a schedule's own names can match a filter. */
function leftoverMatches(name: string, filter: SnapshotFilter): boolean {
  if (filter.selector !== undefined) return false;
  return filter.schedule === undefined || isScheduledSnapshotName(filter.schedule, name);
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
    ...(r.leftovers.length > 0 ? { leftovers: r.leftovers } : {}),
  };
}
