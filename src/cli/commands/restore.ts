import type { Argv, CommandModule } from 'yargs';
import { UserError } from '../../core/errors.js';
import { splitList } from '../../core/resources.js';
import { parseSelector } from '../../core/selectors.js';
import type { RestoreReport, RunOptions } from '../../restore/run.js';
import {
  connectKube,
  decryptionKeyFrom,
  type GlobalArgs,
  type Io,
  type KeyArgs,
  keyOptions,
  openSnapshots,
  type RunState,
} from '../context.js';
import { parseOutput, table, writeData } from '../output.js';
import { Progress } from '../progress.js';
import { clusterModeFrom, type FilterArgs, filterOptions } from './backup.js';

interface RestoreArgs extends GlobalArgs, KeyArgs, FilterArgs {
  name: string;
  'namespace-mapping'?: string[];
  'include-namespaces'?: string[];
  'preserve-nodeports'?: boolean;
  'dry-run'?: string;
  details?: boolean;
  concurrency?: number;
}

function restoreFilterOptions<T>(y: Argv<T>): Argv<T> {
  return filterOptions(
    keyOptions(y)
      .option('include-namespaces', {
        type: 'string',
        array: true,
        describe: 'Only these namespaces of the snapshot (same as -n)',
      })
      .option('namespace-mapping', {
        type: 'string',
        array: true,
        describe: 'Restore namespace OLD into NEW: OLD=NEW (repeatable)',
      }),
    'auto: cluster objects the namespaces need; true: all in the snapshot; false: none',
  );
}

async function optionsFrom(a: RestoreArgs): Promise<RunOptions> {
  const mode = clusterModeFrom(a);
  let dryRun: RunOptions['dryRun'];
  if (a['dry-run'] !== undefined) {
    const v = a['dry-run'] === '' ? 'client' : a['dry-run'];
    if (v !== 'client' && v !== 'server') {
      throw new UserError(
        `--dry-run must be client or server, not "${v}"`,
        'client prints the plan; server has the API server validate every create',
      );
    }
    dryRun = v;
  }
  const { parseNamespaceMappings } = await import('../../restore/mapping.js');
  return {
    namespaces: [...splitList(a.namespace), ...splitList(a['include-namespaces'])],
    mapping: parseNamespaceMappings(splitList(a['namespace-mapping'])),
    ...(a.selector !== undefined ? { selector: parseSelector(a.selector) } : {}),
    includeResources: splitList(a['include-resources']),
    excludeResources: splitList(a['exclude-resources']),
    includeClusterResources: mode,
    preserveNodePorts: a['preserve-nodeports'] === true,
    ...(dryRun ? { dryRun } : {}),
    ...(a.concurrency ? { concurrency: a.concurrency } : {}),
  };
}

function objectName(r: { resource: string; namespace?: string; name: string }): string {
  return `${r.resource}/${r.name}${r.namespace ? ` -n ${r.namespace}` : ''}`;
}

export async function restoreReportText(
  report: RestoreReport,
  verb: 'restore' | 'diff',
): Promise<string> {
  const { summarize } = await import('../../restore/run.js');
  const t = report.totals;
  const title =
    verb === 'diff'
      ? `Diff of snapshot ${report.snapshot} against the cluster`
      : report.dryRun
        ? `Restore of ${report.snapshot} (dry run, ${report.dryRun}): nothing was changed`
        : `Restore of ${report.snapshot}`;
  let out = `${title}\n\n`;
  out += table(
    [
      'RESOURCE',
      'KIND',
      verb === 'restore' && !report.dryRun ? 'CREATED' : 'TO CREATE',
      'EXISTS',
      'SKIPPED',
      'FAILED',
    ],
    summarize(report).map((r) => [r.resource, r.kind, r.created, r.exists, r.skipped, r.failed]),
  );
  const failed = report.results.filter((r) => r.outcome === 'failed');
  const differs = report.results.filter((r) => r.outcome === 'exists-differs');
  const unvalidated = report.results.filter((r) => r.outcome === 'not-validated');
  if (differs.length > 0) {
    out += `\nExisting objects that differ from the snapshot (left untouched):\n`;
    for (const r of differs) {
      out += `  ${objectName(r)}\n`;
      for (const d of r.diff ?? [])
        out += `      ${d.path}: cluster has ${JSON.stringify(d.before)}, snapshot has ${JSON.stringify(d.after)}\n`;
    }
  }
  if (unvalidated.length > 0)
    out += `\n${unvalidated.length} object(s) not validated: ${unvalidated[0]?.message}\n`;
  if (failed.length > 0) {
    out += `\nFailed:\n`;
    for (const r of failed) out += `  ${objectName(r)}: ${r.message}\n`;
  }
  const created = verb === 'restore' && !report.dryRun ? t.created : t['would-create'];
  out += `\n${created} ${verb === 'restore' && !report.dryRun ? 'created' : 'to create'}, ${t['exists-identical']} identical, ${t['exists-differs']} differ, ${t.skipped} skipped, ${t.failed} failed\n`;
  return out;
}

export function restoreCommand(io: Io, state: RunState): CommandModule<GlobalArgs, RestoreArgs> {
  return {
    command: 'restore <name>',
    describe: 'Re-create objects from a snapshot; existing objects are never changed',
    builder: (y) =>
      restoreFilterOptions(y)
        .positional('name', { type: 'string', demandOption: true, describe: 'Snapshot to restore' })
        .option('preserve-nodeports', {
          type: 'boolean',
          describe: 'Keep every Service nodePort as backed up',
        })
        .option('dry-run', {
          type: 'string',
          describe:
            'client: print the plan; server: the API server validates every create, nothing persists',
        })
        .option('concurrency', {
          type: 'number',
          default: 16,
          describe: 'Creates in flight at once within a tier',
        })
        .example('$0 restore shop-20260101-020000', 'Restore everything the snapshot holds')
        .example(
          '$0 restore shop-20260101-020000 --namespace-mapping shop=shop-copy',
          'Restore into another namespace',
        ) as Argv<RestoreArgs>,
    handler: async (a) => {
      const format = parseOutput(a.output, ['table', 'json', 'yaml']);
      const opts = await optionsFrom(a);
      const snapshots = await openSnapshots(a, io.env);
      const { loadSnapshot, runRestore } = await import('../../restore/run.js');
      const client = opts.dryRun === 'client' ? undefined : await connectKube(a, opts.concurrency);
      // Read and verify the whole archive before the cluster is changed.
      const snap = await loadSnapshot(
        snapshots,
        a.name,
        await decryptionKeyFrom(a, io.env),
        client && { client, options: opts },
      );
      const progress = Progress.for(io.stderr, a.progress === false);
      const report = await runRestore(client, snap, {
        ...opts,
        withDiff: true,
        onProgress: (done, total) =>
          progress.update({ done, total, unit: 'objects', objects: done }),
      }).finally(() => snap.close());
      progress.done();
      if (format === 'table') io.stdout.write(await restoreReportText(report, 'restore'));
      else await writeData(io.stdout, report, format);
      if (report.totals.failed > 0) state.exitCode = 2;
    },
  };
}

export function diffCommand(io: Io): CommandModule<GlobalArgs, RestoreArgs> {
  return {
    command: 'diff <name>',
    describe:
      'Show what a restore would create, and which existing objects are identical or differ',
    builder: (y) =>
      restoreFilterOptions(y)
        .positional('name', { type: 'string', demandOption: true })
        .option('details', {
          type: 'boolean',
          describe: 'Print a field-level diff of objects that differ',
        }) as Argv<RestoreArgs>,
    handler: async (a) => {
      const format = parseOutput(a.output, ['table', 'json', 'yaml']);
      const opts = await optionsFrom(a);
      const snapshots = await openSnapshots(a, io.env);
      const { loadSnapshot, runRestore } = await import('../../restore/run.js');
      const client = await connectKube(a);
      const snap = await loadSnapshot(snapshots, a.name, await decryptionKeyFrom(a, io.env), {
        client,
        options: opts,
      });
      const report = await runRestore(client, snap, {
        ...opts,
        compareOnly: true,
        withDiff: a.details === true,
      }).finally(() => snap.close());
      if (format === 'table') io.stdout.write(await restoreReportText(report, 'diff'));
      else await writeData(io.stdout, report, format);
    },
  };
}
