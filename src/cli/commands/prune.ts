import type { Argv, CommandModule } from 'yargs';
import { UserError } from '../../core/errors.js';
import type { PruneResult } from '../../snapshots/prune.js';
import {
  describePolicy,
  hasKeepRules,
  KEEP_RULES,
  type KeepRule,
  type RetentionPolicy,
  validatePolicy,
} from '../../snapshots/retention.js';
import { type GlobalArgs, type Io, openSnapshots, type RunState } from '../context.js';
import { formatData, parseOutput, table } from '../output.js';

export interface RetentionArgs {
  'keep-last'?: number;
  'keep-hourly'?: number;
  'keep-daily'?: number;
  'keep-weekly'?: number;
  'keep-monthly'?: number;
  'keep-yearly'?: number;
  'time-zone'?: string;
}

const KEEP_HELP: Record<KeepRule, string> = {
  last: 'Keep the N newest snapshots',
  hourly: 'Keep the newest snapshot of each of the last N hours that have one',
  daily: 'Keep the newest snapshot of each of the last N days that have one',
  weekly: 'Keep the newest snapshot of each of the last N ISO weeks that have one',
  monthly: 'Keep the newest snapshot of each of the last N months that have one',
  yearly: 'Keep the newest snapshot of each of the last N years that have one',
};

/** The keep rules, shared by `prune`, `schedule create` and `schedule exec`. */
export function retentionOptions<T>(y: Argv<T>): Argv<T & RetentionArgs> {
  let out = y as Argv<T & RetentionArgs>;
  for (const r of KEEP_RULES) {
    out = out.option(`keep-${r}`, {
      type: 'number',
      describe: KEEP_HELP[r],
      group: 'Retention:',
    }) as Argv<T & RetentionArgs>;
  }
  return out;
}

/** The local time zone (TZ, else the system's). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function keepFromArgs(a: RetentionArgs): Partial<Record<KeepRule, number>> {
  const keep: Partial<Record<KeepRule, number>> = {};
  for (const r of KEEP_RULES) {
    const v = a[`keep-${r}`];
    if (v !== undefined) keep[r] = v;
  }
  return keep;
}

export function policyFromArgs(a: RetentionArgs, expired: boolean): RetentionPolicy {
  const policy: RetentionPolicy = {
    keep: keepFromArgs(a),
    expired,
    timeZone: a['time-zone'] ?? localTimeZone(),
  };
  validatePolicy(policy);
  return policy;
}

export function pruneSummary(r: PruneResult): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  let out = `${r.considered} snapshot(s) considered in ${r.location}: keep ${r.keep.length}, ${verb} ${
    r.dryRun ? r.remove.length : r.deleted.length
  }\n`;
  const rows = [
    ...r.keep.map((d) => [d.snapshot.name, d.snapshot.startedAt, 'keep', d.reasons.join(', ')]),
    ...r.remove.map((d) => [
      d.snapshot.name,
      d.snapshot.startedAt,
      r.dryRun
        ? 'would remove'
        : r.failed.some((f) => f.name === d.snapshot.name)
          ? 'FAILED'
          : 'removed',
      d.reasons.join(', '),
    ]),
  ].sort((a, b) => (b[1] as string).localeCompare(a[1] as string));
  if (rows.length > 0) out += `\n${table(['NAME', 'STARTED', 'ACTION', 'REASON'], rows)}`;
  for (const f of r.failed) out += `error: deleting ${f.name} failed: ${f.message}\n`;
  return out;
}

interface PruneArgs extends GlobalArgs, RetentionArgs {
  expired?: boolean;
  schedule?: string;
  selector?: string;
  'dry-run'?: boolean;
}

export function pruneCommand(io: Io, state: RunState): CommandModule<GlobalArgs, PruneArgs> {
  return {
    command: 'prune',
    describe: 'Delete snapshots by keep rules (restic-style) and expiry',
    builder: (y) =>
      retentionOptions(y)
        .option('expired', {
          type: 'boolean',
          describe: 'Remove snapshots whose expiry (backup --ttl) has passed',
          group: 'Retention:',
        })
        .option('time-zone', {
          type: 'string',
          describe: 'Time zone whose hours, days, weeks… the keep rules count (default: local)',
          group: 'Retention:',
        })
        .option('schedule', {
          type: 'string',
          describe: 'Only snapshots made by this schedule (label kubectl-snapshot/schedule=NAME)',
        })
        .option('selector', {
          alias: 'l',
          type: 'string',
          describe: 'Only snapshots whose labels match (kubectl syntax)',
        })
        .option('dry-run', {
          type: 'boolean',
          describe: 'Only show what would be removed',
        })
        .example('$0 prune --keep-daily 7 --keep-weekly 4 --dry-run', 'Preview a retention policy')
        .example('$0 prune --expired', 'Remove snapshots past their --ttl')
        .example(
          '$0 prune --schedule nightly --keep-last 14',
          "Only the 'nightly' schedule's snapshots",
        ) as Argv<PruneArgs>,
    handler: async (a) => {
      const format = parseOutput(a.output);
      const policy = policyFromArgs(a, a.expired === true);
      if (!hasKeepRules(policy) && !policy.expired) {
        throw new UserError(
          'no retention policy given, so nothing would be removed',
          'pass keep rules such as --keep-last 7 or --keep-daily 7 --keep-weekly 4, and/or --expired',
        );
      }
      const filter = {
        ...(a.schedule !== undefined ? { schedule: a.schedule } : {}),
        ...(a.selector !== undefined ? { selector: a.selector } : {}),
      };
      const { runPrune, pruneReport } = await import('../../snapshots/prune.js');
      const { snapshotFilterRequirements } = await import('../../snapshots/retention.js');
      snapshotFilterRequirements(filter); // validates the selector before touching storage
      const snapshots = await openSnapshots(a, io.env);
      const r = await runPrune(snapshots, { policy, filter, dryRun: a['dry-run'] === true });
      if (format === 'table') {
        io.stderr.write(`policy: ${describePolicy(policy)} (time zone ${policy.timeZone})\n`);
        io.stdout.write(pruneSummary(r));
      } else io.stdout.write(await formatData(pruneReport(r), format));
      if (r.failed.length > 0) state.exitCode = 2;
    },
  };
}
