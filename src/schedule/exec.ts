// `schedule exec`: what the CronJob's container runs, a backup and then the schedule's prune.
import { type BackupDeps, runBackup } from '../backup/run.js';
import type { Selection, SnapshotManifest } from '../core/types.js';
import type { EncryptionKey } from '../crypto/age.js';
import { type PruneResult, runPrune } from '../snapshots/prune.js';
import { isComplete, type RetentionPolicy } from '../snapshots/retention.js';
import { SCHEDULE_LABEL, scheduledSnapshotName } from '../snapshots/scheduled.js';

export interface ExecOptions {
  schedule: string;
  selection: Selection;
  ttlMs?: number;
  labels: Record<string, string>;
  encryption?: EncryptionKey;
  policy: RetentionPolicy;
  now?: () => Date;
  onProgress?: Parameters<typeof runBackup>[1]['onProgress'];
  signal?: AbortSignal;
}

export interface ExecResult {
  manifest: SnapshotManifest;
  /** Absent when the backup was partial: retention runs only after a complete backup. */
  prune?: PruneResult;
}

/**
 * One scheduled run, in this process: a backup named `<schedule>-<timestamp>` and labelled
 * with the schedule, then a prune limited to that schedule's snapshots. The prune runs only
 * after a complete backup, as `backup && prune` would: a partial one (rights lost) must not
 * be the occasion to delete good snapshots.
 */
export async function execSchedule(deps: BackupDeps, opts: ExecOptions): Promise<ExecResult> {
  const now = opts.now ?? (() => new Date());
  const manifest = await runBackup(deps, {
    name: scheduledSnapshotName(opts.schedule, now()),
    selection: opts.selection,
    ...(opts.ttlMs ? { ttlMs: opts.ttlMs } : {}),
    labels: { ...opts.labels, [SCHEDULE_LABEL]: opts.schedule },
    ...(opts.encryption ? { encryption: opts.encryption } : {}),
    now,
    // The schedule was made when its excluded types existed; their CRDs may go since.
    warnUnknownExcludes: true,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (!isComplete(manifest)) return { manifest };
  const prune = await runPrune(deps.snapshots, {
    policy: opts.policy,
    filter: { schedule: opts.schedule },
    dryRun: false,
    now: now(),
  });
  return { manifest, prune };
}
