// restore and diff: a snapshot against the cluster. restore creates what does not exist (or,
// with --dry-run, plans or validates it); diff compares. Neither changes an existing object.
import { readFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { AUTO_CONCURRENCY } from '../../core/adaptive.js';
import { parseDuration } from '../../core/duration.js';
import { CommandFailed, EXIT, errorMessage, Interrupted, UserError } from '../../core/errors.js';
import { validateSnapshotName } from '../../core/names.js';
import { parseSelector } from '../../core/selectors.js';
import type { KubeClient } from '../../kube/client.js';
import { objectPath } from '../../kube/discovery.js';
import type { RestoreOptions } from '../../restore/plan.js';
import type { RestoreReport } from '../../restore/results.js';
import type { RunMode } from '../../restore/run.js';
import { DEFAULT_WAIT_TERMINATING_MS } from '../../restore/terminating.js';
import {
  buildTransform,
  configMapRef,
  type TransformFlags,
} from '../../restore/transforms/build.js';
import { gitOpsNotice } from '../../restore/transforms/report.js';
import { parseRules, type Rule, rulesOfConfigMap } from '../../restore/transforms/rules.js';
import { GITOPS_RULE_NAME } from '../../restore/transforms/shortcuts.js';
import type { Command } from '../command.js';
import type { GlobalArgs, Io } from '../context.js';
import {
  type CommonOptions,
  clusterModeFrom,
  commonFrom,
  type FilterArgs,
  filterOptions,
  type KeyArgs,
  type KeyFiles,
  keyFileFlag,
  keyFilesFrom,
  keyOptions,
  lastValue,
  listFlag,
  needsValue,
  resourceListsFrom,
} from '../flags.js';
import { readKeys, verifiedRepository } from '../keys.js';
import { type OutputFormat, sanitize, writeData } from '../output.js';
import { Progress } from '../progress.js';
import { restoreReportText } from './restore-report.js';

/** What restore and diff share: the snapshot, the keys to read it with, what of it goes where. */
export interface SnapshotTargetOptions extends CommonOptions {
  name: string;
  keys: KeyFiles;
  /** Which of the snapshot's objects, into which namespaces, transformed how. */
  plan: RestoreOptions;
  /**
   * --resource-modifiers configmap:NS/NAME: its rules are read through the cluster when the
   * command runs, and the transform is built again with them from these flags.
   */
  modifiersConfigMap?: { namespace: string; name: string; flags: TransformFlags };
}

/** What `restore` does: create, or one of the dry runs (`--dry-run[=client]`, `--dry-run=server`). */
export type RestoreModeKind = Exclude<RunMode['kind'], 'compare'>;

export interface RestoreCommandOptions extends SnapshotTargetOptions {
  mode: RestoreModeKind;
  /** Also a Velero backup that did not complete (Failed, InProgress, …). */
  allowPartial: boolean;
  /** Creates in flight at once within a tier (`auto`: adaptive), and connections to the API server. */
  concurrency: number | 'auto';
  /** Give created objects the backup's field owners (`--keep-field-owners`, default true). */
  keepFieldOwners: boolean;
  /** How long to wait for each object being deleted (`--wait-terminating`; 0: do not wait). */
  waitTerminatingMs: number;
}

export interface DiffCommandOptions extends SnapshotTargetOptions {
  /** Field-level diffs of the objects that differ. */
  details: boolean;
}

interface TargetArgs extends KeyArgs, FilterArgs {
  name: string;
  'namespace-mapping'?: string[];
  'include-namespaces'?: string[];
  'resource-modifiers'?: string;
  'storage-class-mapping'?: string[];
  'image-registry-mapping'?: string[];
  'replicas-to-zero'?: boolean;
  'keep-gitops-tracking'?: boolean;
}

interface RestoreArgs extends TargetArgs {
  'preserve-nodeports'?: boolean;
  'allow-partial'?: boolean;
  'keep-field-owners'?: boolean;
  'wait-terminating'?: string;
  'dry-run'?: string;
  concurrency?: string;
}

interface DiffArgs extends TargetArgs {
  details?: boolean;
}

function targetFlags<T>(y: Argv<T>): Argv<T & TargetArgs> {
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
      })
      .option('resource-modifiers', {
        type: 'string',
        coerce: lastValue,
        describe: 'Velero resource-modifier rules to apply: a YAML file, or configmap:NS/NAME',
      })
      .option('storage-class-mapping', {
        type: 'string',
        array: true,
        describe: 'Storage class OLD becomes NEW in PVCs, PVs and volumeClaimTemplates: OLD=NEW',
      })
      .option('image-registry-mapping', {
        type: 'string',
        array: true,
        describe: 'Images of registry OLD come from NEW, in every pod template: OLD=NEW',
      })
      .option('replicas-to-zero', {
        type: 'boolean',
        describe: 'Deployments and StatefulSets are restored with 0 replicas',
      })
      .option('keep-gitops-tracking', {
        type: 'boolean',
        describe: 'Keep Argo CD / Flux tracking metadata on namespace clones (removed by default)',
      }),
    'auto: cluster objects the namespaces need; true: all in the snapshot; false: none',
  ) as Argv<T & TargetArgs>;
}

async function targetFrom(
  a: TargetArgs & GlobalArgs,
  env: NodeJS.ProcessEnv,
  preserveNodePorts = false,
): Promise<SnapshotTargetOptions> {
  const common = commonFrom(a);
  const includeClusterResources = clusterModeFrom(a);
  const { parseNamespaceMappings } = await import('../../restore/mapping.js');
  const mapping = parseNamespaceMappings(
    listFlag(a['namespace-mapping'], '--namespace-mapping', 'shop=shop-copy'),
  );
  const selector = a.selector !== undefined ? parseSelector(a.selector) : undefined;
  validateSnapshotName(a.name);
  const modifiers = keyFileFlag(a['resource-modifiers'], '--resource-modifiers', 'rules.yaml');
  const modifiersConfigMap = modifiers !== undefined ? configMapRef(modifiers) : undefined;
  const transforms: TransformFlags = {
    rules: modifiers !== undefined && !modifiersConfigMap ? await readRulesFile(modifiers) : [],
    storageClassMapping: listFlag(a['storage-class-mapping'], '--storage-class-mapping', 'a=b'),
    imageRegistryMapping: listFlag(a['image-registry-mapping'], '--image-registry-mapping', 'a=b'),
    replicasToZero: a['replicas-to-zero'] === true,
    keepGitOpsTracking: a['keep-gitops-tracking'] === true,
    mapping,
  };
  const transform = buildTransform(transforms);
  return {
    ...common,
    name: a.name,
    keys: keyFilesFrom(a, env),
    ...(modifiersConfigMap
      ? { modifiersConfigMap: { ...modifiersConfigMap, flags: transforms } }
      : {}),
    plan: {
      ...(transform ? { transform } : {}),
      namespaces: [
        ...listFlag(a.namespace, '--namespace', 'shop'),
        ...listFlag(a['include-namespaces'], '--include-namespaces', 'shop'),
      ],
      mapping,
      ...(selector ? { selector } : {}),
      ...resourceListsFrom(a),
      includeClusterResources,
      preserveNodePorts,
    },
  };
}

async function readRulesFile(path: string): Promise<Rule[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError(`--resource-modifiers: cannot read ${path}: ${errorMessage(err)}`);
  }
  return parseRules(text, path);
}

const CONFIG_MAPS = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
} as const;

/**
 * The plan with the rules of a --resource-modifiers ConfigMap, read (the run's first read of
 * the cluster) and checked before the snapshot is; else the plan as the options made it.
 */
async function planWithRules(
  o: SnapshotTargetOptions,
  client: () => Promise<KubeClient>,
): Promise<RestoreOptions> {
  const ref = o.modifiersConfigMap;
  if (!ref) return o.plan;
  const cm = await (await client()).getOptional<{ data?: Record<string, string> }>(
    objectPath(CONFIG_MAPS, ref.name, ref.namespace),
  );
  const where = `configmap:${ref.namespace}/${ref.name}`;
  if (!cm) throw new UserError(`--resource-modifiers ${where}: no such ConfigMap`);
  const transform = buildTransform({ ...ref.flags, rules: rulesOfConfigMap(cm.data, where) });
  return { ...o.plan, ...(transform ? { transform } : {}) };
}

/** `--dry-run` (alone: client), `--dry-run=client|server`, or none: create. */
export function restoreModeFrom(dryRun: string | undefined): RestoreModeKind {
  if (dryRun === undefined) return 'create';
  const v = dryRun === '' ? 'client' : dryRun;
  if (v !== 'client' && v !== 'server') {
    throw new UserError(
      `--dry-run must be client or server, not "${v}"`,
      'client prints the plan; server has the API server validate every create',
    );
  }
  return v === 'client' ? 'client-dry-run' : 'server-dry-run';
}

/** --wait-terminating: a duration, or 0 to fail objects being deleted at once. */
export function waitTerminatingFrom(text: string | undefined): number {
  if (text === undefined) return DEFAULT_WAIT_TERMINATING_MS;
  if (text.trim() === '') throw needsValue('--wait-terminating', '5m');
  if (/^0+(ms|s|m|h)?$/.test(text.trim())) return 0;
  return parseDuration(text.trim());
}

/**
 * --concurrency: a fixed number (16 by default), or `auto`, which adapts to the API server;
 * not the default until the benchmark shows it pays (docs/performance.md).
 */
export function concurrencyFrom(text: string | undefined): number | 'auto' {
  const t = (text ?? '16').trim();
  if (t === 'auto') return 'auto';
  const v = Number(t);
  if (t === '' || !Number.isInteger(v) || v < 1) {
    throw new UserError(
      `--concurrency must be auto or a whole number of at least 1, not "${t}"`,
      'it is how many creates are in flight at once (default 16); auto adapts to what the API server takes',
    );
  }
  return v;
}

/**
 * Prints the report; objects that failed and missing dependencies make the command fail with
 * exit code 2 after it.
 */
async function finish(
  io: Io,
  report: RestoreReport,
  output: OutputFormat,
  verb: 'restore' | 'diff',
): Promise<void> {
  const notice = gitOpsNotice(report.results, GITOPS_RULE_NAME);
  if (notice) io.stderr.write(notice);
  if (output === 'table') io.stdout.write(restoreReportText(report, verb));
  else await writeData(io.stdout, report, output);
  const failed = report.totals.failed;
  const missing = report.missingDependencies?.length ?? 0;
  const problems = [
    ...(failed > 0 ? [`${failed} object(s) failed`] : []),
    ...(missing > 0 ? [`${missing} missing dependenc${missing === 1 ? 'y' : 'ies'}`] : []),
  ];
  if (problems.length > 0)
    throw new CommandFailed(EXIT.partial, `${problems.join(', ')}; see the report above`);
}

export const restoreCommand: Command<RestoreArgs, RestoreCommandOptions> = {
  command: 'restore <name>',
  describe: 'Re-create objects from a snapshot; existing objects are never changed',
  builder: (y) =>
    targetFlags(y)
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
        type: 'string',
        requiresArg: true,
        coerce: lastValue,
        describe:
          'Creates in flight at once within a tier; auto: start at 16, adapt to the API server (1 to 64)',
        defaultDescription: '16',
      })
      .option('allow-partial', {
        type: 'boolean',
        describe: 'Also restore a Velero backup that did not complete (Failed, InProgress, …)',
      })
      .option('wait-terminating', {
        type: 'string',
        requiresArg: true,
        coerce: lastValue,
        describe:
          'How long to wait for each object being deleted (finalizers) before failing it; 0: do not wait',
        defaultDescription: '2m',
      })
      .option('keep-field-owners', {
        type: 'boolean',
        default: true,
        describe:
          'Give created objects the field managers of the backup (managedFields); false: kubectl-snapshot owns every field',
      })
      .example('$0 restore shop-20260101-020000', 'Restore everything the snapshot holds')
      .example(
        '$0 restore shop-20260101-020000 --namespace-mapping shop=shop-copy',
        'Restore into another namespace',
      ) as Argv<RestoreArgs>,
  options: async (a, env) => {
    const target = await targetFrom(a, env, a['preserve-nodeports'] === true);
    const mode = restoreModeFrom(a['dry-run']);
    return {
      ...target,
      mode,
      concurrency: concurrencyFrom(a.concurrency),
      allowPartial: a['allow-partial'] === true,
      keepFieldOwners: a['keep-field-owners'] !== false,
      waitTerminatingMs: waitTerminatingFrom(a['wait-terminating']),
    };
  },
  run: async (deps, o) => {
    const opened = await deps.storage(o.storage);
    // Signed snapshots: snapshot.json is checked against the key before anything else.
    const { snapshots } = await verifiedRepository(opened.snapshots, opened.location, o.keys);
    const { runRestore } = await import('../../restore/run.js');
    const { loadSnapshot } = await import('../../restore/snapshot.js');
    const mode: RunMode =
      o.mode === 'client-dry-run'
        ? { kind: o.mode }
        : {
            kind: o.mode,
            client: await deps.kube(
              o.kube,
              o.concurrency === 'auto' ? AUTO_CONCURRENCY.max : o.concurrency,
            ),
          };
    const plan = await planWithRules(o, () =>
      mode.kind === 'client-dry-run' ? deps.kube(o.kube) : Promise.resolve(mode.client),
    );
    // Read and verify the whole archive before the cluster is changed.
    const snap = await loadSnapshot(snapshots, o.name, await readKeys(o.keys), {
      options: plan,
      allowPartial: o.allowPartial,
      ...(mode.kind === 'client-dry-run' ? {} : { client: mode.client }),
    });
    const progress = Progress.for(deps.io.stderr, !o.progress);
    const report = await runRestore(snap, {
      ...plan,
      mode,
      concurrency: o.concurrency,
      keepFieldOwners: o.keepFieldOwners,
      waitTerminatingMs: o.waitTerminatingMs,
      onWaiting: (what, holders) =>
        deps.io.stderr.write(
          `waiting for ${sanitize(what)} to be deleted (${sanitize(holders)})\n`,
        ),
      onProgress: (done, total) => progress.update({ done, total, unit: 'objects', objects: done }),
      signal: deps.stopSignal(),
    })
      .catch((err: unknown) => {
        if (!(err instanceof Interrupted)) throw err;
        throw new Interrupted(
          err.signal,
          'what was created stays; the same restore again creates the rest (it skips what exists)',
        );
      })
      .finally(() => snap.close());
    progress.done();
    await finish(deps.io, report, o.output, 'restore');
  },
};

export const diffCommand: Command<DiffArgs, DiffCommandOptions> = {
  command: 'diff <name>',
  describe: 'Show what a restore would create, and which existing objects are identical or differ',
  builder: (y) =>
    targetFlags(y).positional('name', { type: 'string', demandOption: true }).option('details', {
      type: 'boolean',
      describe: 'Print a field-level diff of objects that differ',
    }) as Argv<DiffArgs>,
  options: async (a, env) => ({ ...(await targetFrom(a, env)), details: a.details === true }),
  run: async (deps, o) => {
    const opened = await deps.storage(o.storage);
    const { snapshots } = await verifiedRepository(opened.snapshots, opened.location, o.keys);
    const { runRestore } = await import('../../restore/run.js');
    const { loadSnapshot } = await import('../../restore/snapshot.js');
    const client = await deps.kube(o.kube);
    const plan = await planWithRules(o, async () => client);
    // Reading changes nothing: an unfinished Velero backup may be compared.
    const snap = await loadSnapshot(snapshots, o.name, await readKeys(o.keys), {
      client,
      options: plan,
      allowPartial: true,
    });
    const report = await runRestore(snap, {
      ...plan,
      mode: { kind: 'compare', client, details: o.details },
    }).finally(() => snap.close());
    await finish(deps.io, report, o.output, 'diff');
  },
};
