// What the schedule subcommands share: the install namespace and name flags, the backup
// flags of create and exec (validated in one place, in one order), and the newest snapshot
// of a schedule for list and describe.
import type { Argv } from 'yargs';
import { errorMessage, UserError } from '../../../core/errors.js';
import type { Selection, SnapshotManifest } from '../../../core/types.js';
import { DEFAULT_INSTALL_NAMESPACE } from '../../../schedule/render.js';
import type { RetentionPolicy } from '../../../snapshots/retention.js';
import { SCHEDULE_LABEL } from '../../../snapshots/scheduled.js';
import type { Deps, KubeTarget } from '../../command.js';
import type { GlobalArgs } from '../../context.js';
import {
  encryptionFrom,
  kubeFrom,
  lastValue,
  parseLabels,
  policyFrom,
  type RetentionArgs,
  type SelectionArgs,
  selectionFrom,
  selectionOptions,
  ttlFrom,
} from '../../flags.js';
import { age, type OutputFormat, parseOutput } from '../../output.js';

export interface InstallArgs {
  'install-namespace': string;
}

export function installOption<T>(
  y: Argv<T>,
  describe = `Namespace that holds the schedules (CronJobs, ServiceAccounts, Secrets); default ${DEFAULT_INSTALL_NAMESPACE}`,
  byDefault: string = DEFAULT_INSTALL_NAMESPACE,
): Argv<T & InstallArgs> {
  return y.option('install-namespace', { type: 'string', default: byDefault, describe });
}

export interface NameArgs extends InstallArgs {
  name: string;
}

/** `<name>` and --install-namespace: the flags of describe, run, suspend and resume. */
export function nameOptions(y: Argv<GlobalArgs>): Argv<NameArgs> {
  return installOption(y).positional('name', { type: 'string', demandOption: true }) as Argv<
    GlobalArgs & NameArgs
  >;
}

/** Which schedules: the cluster and the namespace that holds them. */
export interface ScheduleTarget {
  kube: KubeTarget;
  installNamespace: string;
}

export function targetFrom(a: GlobalArgs & InstallArgs): ScheduleTarget {
  return { kube: kubeFrom(a), installNamespace: a['install-namespace'] };
}

/** One schedule, and the format to print what the command shows (describe, run). */
export interface OneScheduleOptions extends ScheduleTarget {
  name: string;
  output: OutputFormat;
}

export function oneScheduleFrom(a: GlobalArgs & NameArgs): OneScheduleOptions {
  return { ...targetFrom(a), name: a.name, output: parseOutput(a.output) };
}

// ---- the backup a schedule makes (create stores it, exec runs it) -------------------------

export interface BackupFlagArgs extends SelectionArgs {
  ttl?: string;
  labels?: string[];
  'encrypt-to'?: string[];
}

export type BackupArgs = BackupFlagArgs & RetentionArgs;

/** The selection, --ttl, --labels and --encrypt-to; the keep rules are retentionOptions. */
export function backupFlags<T>(y: Argv<T>): Argv<T & BackupFlagArgs> {
  return selectionOptions(y)
    .option('ttl', {
      type: 'string',
      requiresArg: true,
      coerce: lastValue,
      describe:
        'Each snapshot expires after this long (e.g. 720h); the scheduled prune removes it then',
    })
    .option('labels', {
      type: 'string',
      array: true,
      describe: 'Extra labels recorded on each snapshot, KEY=VALUE',
    })
    .option('encrypt-to', {
      type: 'string',
      array: true,
      describe:
        'Encrypt each snapshot for this age recipient (public key age1…; repeatable); the schedule holds no key that decrypts',
    }) as Argv<T & BackupFlagArgs>;
}

/** What each run of a schedule backs up, how, and what its prune keeps. */
export interface ScheduledBackup {
  selection: Selection;
  /** --ttl as given (stored on the schedule, passed to exec) and in milliseconds. */
  ttl?: { text: string; ms: number };
  labels: Record<string, string>;
  /** age recipients: a schedule never gets a passphrase or an identity. */
  encryptTo: string[];
  /** Keep rules and expiry, counted in `timeZone`. */
  policy: RetentionPolicy;
}

/**
 * The backup flags, validated. `create` refuses the schedule label, which each run sets;
 * exec takes what create rendered.
 */
export function scheduledBackupFrom(
  a: BackupArgs,
  timeZone: string,
  refuseScheduleLabel: boolean,
): ScheduledBackup {
  const selection = selectionFrom(a);
  const ttlMs = ttlFrom(a.ttl);
  const ttl = a.ttl !== undefined && ttlMs !== undefined ? { text: a.ttl, ms: ttlMs } : undefined;
  const labels = parseLabels(a.labels);
  if (refuseScheduleLabel && Object.hasOwn(labels, SCHEDULE_LABEL))
    throw new UserError(`--labels may not set ${SCHEDULE_LABEL}: the schedule sets it`);
  const policy = policyFrom({ ...a, 'time-zone': timeZone }, true);
  const encryption = encryptionFrom({ 'encrypt-to': a['encrypt-to'] });
  return {
    selection,
    ...(ttl ? { ttl } : {}),
    labels,
    encryptTo: encryption && 'recipients' in encryption ? encryption.recipients : [],
    policy,
  };
}

// ---- list and describe ----------------------------------------------------------------------

/** `5m ago`, `in 3h`, or `<none>`. */
export function when(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '<none>';
  const a = age(iso, now);
  return a.startsWith('in ') ? a : `${a} ago`;
}

/** The newest snapshot of a schedule (none yet: neither field), or why it could not be read. */
export interface LastSnapshot {
  manifest?: SnapshotManifest;
  error?: string;
}

/** The newest snapshot of each schedule with a storage, read with the user's credentials. */
export async function lastSnapshots(
  deps: Deps,
  infos: { name: string; storage?: string }[],
): Promise<Map<string, LastSnapshot>> {
  const out = new Map<string, LastSnapshot>();
  for (const s of infos) {
    if (!s.storage) continue;
    try {
      const { snapshots } = await deps.storage(s.storage);
      const manifest = await snapshots.newestOfSchedule(s.name);
      out.set(s.name, manifest ? { manifest } : {});
    } catch (err) {
      out.set(s.name, { error: errorMessage(err) });
    }
  }
  return out;
}

/** `{ lastSnapshot: { name, completedAt } }` for -o json|yaml, when there is one. */
export function lastSnapshotField(last: LastSnapshot | undefined) {
  const m = last?.manifest;
  return m ? { lastSnapshot: { name: m.name, completedAt: m.completedAt } } : {};
}
