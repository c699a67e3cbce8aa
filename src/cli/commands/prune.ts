// `prune`: delete snapshots by restic-style keep rules and expiry.
import type { Argv } from 'yargs';
import { CommandFailed, EXIT, UserError } from '../../core/errors.js';
import type { PruneResult } from '../../snapshots/prune.js';
import {
  describePolicy,
  hasKeepRules,
  type RetentionPolicy,
  type SnapshotFilter,
  snapshotFilterRequirements,
} from '../../snapshots/retention.js';
import type { Command } from '../command.js';
import {
  type CommonOptions,
  commonFrom,
  policyFrom,
  type RetentionArgs,
  retentionOptions,
} from '../flags.js';
import { formatData, table } from '../output.js';

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
  if (r.leftovers.length > 0)
    out += `${r.dryRun ? 'would remove' : 'removed'} the leftovers of backups that died over a day ago: ${r.leftovers.join(', ')}\n`;
  for (const d of r.damaged)
    out += `warning: left ${d.name} alone: its snapshot.json is damaged (${d.problem})\n`;
  return out;
}

interface PruneArgs extends RetentionArgs {
  expired?: boolean;
  schedule?: string;
  selector?: string;
  'dry-run'?: boolean;
}

export interface PruneCommandOptions extends Pick<CommonOptions, 'storage' | 'output'> {
  policy: RetentionPolicy;
  filter: SnapshotFilter;
  dryRun: boolean;
}

export const pruneCommand: Command<PruneArgs, PruneCommandOptions> = {
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
  options: (a) => {
    const { storage, output } = commonFrom(a);
    const policy = policyFrom(a, a.expired === true);
    if (!hasKeepRules(policy) && !policy.expired) {
      throw new UserError(
        'no retention policy given, so nothing would be removed',
        'pass keep rules such as --keep-last 7 or --keep-daily 7 --keep-weekly 4, and/or --expired',
      );
    }
    const filter: SnapshotFilter = {
      ...(a.schedule !== undefined ? { schedule: a.schedule } : {}),
      ...(a.selector !== undefined ? { selector: a.selector } : {}),
    };
    snapshotFilterRequirements(filter); // validates the selector before storage is touched
    return {
      ...(storage !== undefined ? { storage } : {}),
      output,
      policy,
      filter,
      dryRun: a['dry-run'] === true,
    };
  },
  run: async ({ io, storage }, o) => {
    const { runPrune, pruneReport } = await import('../../snapshots/prune.js');
    const { snapshots } = await storage(o.storage);
    const r = await runPrune(snapshots, { policy: o.policy, filter: o.filter, dryRun: o.dryRun });
    if (o.output === 'table') {
      io.stderr.write(`policy: ${describePolicy(o.policy)} (time zone ${o.policy.timeZone})\n`);
      io.stdout.write(pruneSummary(r));
    } else io.stdout.write(await formatData(pruneReport(r), o.output));
    if (r.failed.length > 0)
      throw new CommandFailed(EXIT.partial, `${r.failed.length} snapshot(s) could not be deleted`);
  },
};
