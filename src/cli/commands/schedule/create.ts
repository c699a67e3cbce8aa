// `schedule create`: render a schedule from a backup command line and apply it (or print it).
import type { Argv } from 'yargs';
import { UserError } from '../../../core/errors.js';
import { isDns1123Label } from '../../../core/names.js';
import { validateTimeZone } from '../../../core/time-zone.js';
import type { KubeObject } from '../../../core/types.js';
import type { KubeClient } from '../../../kube/client.js';
import { type CronSchedule, parseCron, upcomingRuns } from '../../../schedule/cron.js';
import {
  DEFAULT_IMAGE,
  DEFAULT_INSTALL_NAMESPACE,
  validateScheduleName,
} from '../../../schedule/render.js';
import { parseVeleroRef, type VeleroOverrides } from '../../../schedule/velero.js';
import { SCHEDULE_LABEL } from '../../../snapshots/scheduled.js';
import type { Command } from '../../command.js';
import type { GlobalArgs, Io } from '../../context.js';
import {
  clusterModeFrom,
  commonFrom,
  encryptionFrom,
  listFlag,
  parseLabels,
  policyFrom,
  type RetentionArgs,
  retentionOptions,
  type SignArgs,
  signKeyFileFrom,
  signOptions,
  ttlFrom,
} from '../../flags.js';
import { checkSigningKey, readSigningKey } from '../../keys.js';
import { formatData, type OutputFormat } from '../../output.js';
import {
  type BackupFlagArgs,
  backupFlags,
  type InstallArgs,
  installOption,
  type ScheduledBackup,
  type ScheduleTarget,
  scheduledBackupFrom,
} from './shared.js';

interface CreateArgs extends InstallArgs, BackupFlagArgs, RetentionArgs, SignArgs {
  name: string;
  schedule?: string;
  'from-velero-schedule'?: string;
  image?: string;
  suspend?: boolean;
  'dry-run'?: boolean;
}

export interface ScheduleCreateOptions
  extends Omit<ScheduleTarget, 'installNamespace'>,
    ScheduledBackup {
  /** Undefined: decided from the creator's rights (see createSchedule). */
  installNamespace?: string;
  name: string;
  storage?: string;
  /** json or yaml with dryRun. */
  output: OutputFormat;
  /** Print the manifests (Secret values redacted) instead of applying them. */
  dryRun: boolean;
  schedule: CronSchedule;
  /** The cron expression's zone; without one the controller manager's (usually UTC). */
  timeZone?: string;
  suspend: boolean;
  image: string;
  /** --sign-key: the private key file; its PEM goes into the schedule's Secret only. */
  signKeyFile?: string;
}

/** The fields a Velero Schedule gives; the rest of the options are flags only. */
type FromVelero = 'schedule' | 'timeZone' | 'selection' | 'ttl' | 'labels' | 'suspend';

/** `schedule create --from-velero-schedule`: the Schedule is read when the command runs. */
export interface VeleroCreateOptions extends Omit<ScheduleCreateOptions, FromVelero> {
  fromVelero: { namespace: string; name: string };
  /** The flags given next to it, each replacing the Velero field it corresponds to. */
  given: VeleroOverrides;
}

function createOptions(a: CreateArgs & GlobalArgs): ScheduleCreateOptions | VeleroCreateOptions {
  const dryRun = a['dry-run'] === true;
  const { kube, storage, output } = commonFrom(a, dryRun ? 'yaml' : 'table');
  if (dryRun && output === 'table')
    throw new UserError('--dry-run prints manifests: use -o yaml or -o json');
  validateScheduleName(a.name);
  const fromVelero = a['from-velero-schedule'];
  if (fromVelero === undefined && a.schedule === undefined)
    throw new UserError(
      '--schedule is required',
      'e.g. --schedule "0 2 * * *", or --from-velero-schedule NAMESPACE/NAME',
    );
  const schedule = a.schedule !== undefined ? parseCron(a.schedule) : undefined;
  const timeZone = a['time-zone'];
  if (timeZone !== undefined) validateTimeZone(timeZone);
  // Retention counts days in the schedule's zone; without one, in UTC like the controller.
  const backup =
    fromVelero === undefined ? scheduledBackupFrom(a, timeZone ?? 'UTC', true) : undefined;
  const signKeyFile = signKeyFileFrom(a);
  const image = a.image ?? DEFAULT_IMAGE;
  if (image.trim() === '' || /\s/.test(image)) throw new UserError(`invalid --image "${image}"`);
  // Empty: decided by createSchedule from the creator's rights.
  if (a['install-namespace'] !== '' && !isDns1123Label(a['install-namespace']))
    throw new UserError(`invalid --install-namespace "${a['install-namespace']}"`);
  const common = {
    kube,
    ...(a['install-namespace'] !== '' ? { installNamespace: a['install-namespace'] } : {}),
    name: a.name,
    ...(storage !== undefined ? { storage } : {}),
    output,
    dryRun,
    image,
    ...(signKeyFile !== undefined ? { signKeyFile } : {}),
  };
  if (fromVelero !== undefined)
    return { ...common, ...veleroFlags(a, schedule), fromVelero: parseVeleroRef(fromVelero) };
  return {
    ...common,
    schedule: schedule as CronSchedule,
    ...(timeZone !== undefined ? { timeZone } : {}),
    suspend: a.suspend === true,
    ...(backup as ScheduledBackup),
  };
}

/** Next to --from-velero-schedule: the flags given (validated), and those Velero has none of. */
function veleroFlags(a: CreateArgs, schedule: CronSchedule | undefined) {
  const given: VeleroOverrides = {
    ...(schedule !== undefined ? { schedule } : {}),
    ...(a['time-zone'] !== undefined ? { timeZone: a['time-zone'] } : {}),
    ...(a.namespace !== undefined
      ? { namespaces: listFlag(a.namespace, '--namespace', 'shop') }
      : {}),
    ...(a['all-namespaces'] === true ? { allNamespaces: true } : {}),
    ...(a['exclude-namespace'] !== undefined
      ? {
          excludeNamespaces: listFlag(a['exclude-namespace'], '--exclude-namespace', 'kube-system'),
        }
      : {}),
    ...(a.selector !== undefined ? { labelSelector: a.selector } : {}),
    ...(a['include-resources'] !== undefined
      ? { includeResources: listFlag(a['include-resources'], '--include-resources', 'deployments') }
      : {}),
    ...(a['exclude-resources'] !== undefined
      ? { excludeResources: listFlag(a['exclude-resources'], '--exclude-resources', 'secrets') }
      : {}),
    ...(a['include-cluster-resources'] !== undefined
      ? { includeClusterResources: clusterModeFrom(a) }
      : {}),
    ...(a.labels !== undefined ? { labels: parseLabels(a.labels) } : {}),
    ...(a.suspend !== undefined ? { suspend: a.suspend } : {}),
  };
  // Refused here too, before the Velero Schedule is read.
  if (given.allNamespaces && given.namespaces !== undefined)
    throw new UserError(
      '-n and -A cannot be combined',
      'use -A with --exclude-namespace to leave some out',
    );
  const ttlMs = ttlFrom(a.ttl);
  if (a.ttl !== undefined && ttlMs !== undefined) given.ttl = { text: a.ttl, ms: ttlMs };
  if (given.labels && Object.hasOwn(given.labels, SCHEDULE_LABEL))
    throw new UserError(`--labels may not set ${SCHEDULE_LABEL}: the schedule sets it`);
  const encryption = encryptionFrom({ 'encrypt-to': a['encrypt-to'] });
  return {
    given,
    encryptTo: encryption && 'recipients' in encryption ? encryption.recipients : [],
    // Its zone is set once the Velero Schedule's is known (fromVeleroSchedule).
    policy: policyFrom({ ...a, 'time-zone': a['time-zone'] ?? 'UTC' }, true),
  };
}

/** Reads the Velero Schedule, prints what is not translated, and returns the schedule. */
async function fromVeleroSchedule(
  io: Io,
  client: KubeClient,
  o: VeleroCreateOptions,
): Promise<ScheduleCreateOptions> {
  const { scheduleFromVelero, veleroSchedulePath } = await import('../../../schedule/velero.js');
  const ref = `${o.fromVelero.namespace}/${o.fromVelero.name}`;
  const found = await client.getOptional(veleroSchedulePath(o.fromVelero));
  if (!found)
    throw new UserError(
      `Velero Schedule ${ref} not found`,
      'list them with: kubectl get schedules.velero.io -A',
    );
  const { options, unmapped } = scheduleFromVelero(found, o.given);
  for (const line of unmapped)
    io.stderr.write(`warning: not translated from Velero Schedule ${ref}: ${line}\n`);
  const { fromVelero: _, given: __, ...rest } = o;
  return {
    ...rest,
    ...options,
    policy: { ...o.policy, timeZone: options.timeZone ?? 'UTC' },
  };
}

async function printObjects(io: Io, objects: KubeObject[], format: 'json' | 'yaml') {
  if (format === 'json') {
    io.stdout.write(
      `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`,
    );
    return;
  }
  const docs = await Promise.all(objects.map((o) => formatData(o, 'yaml')));
  io.stdout.write(docs.map((d) => `---\n${d}`).join(''));
}

export const createCommand: Command<CreateArgs, ScheduleCreateOptions | VeleroCreateOptions> = {
  command: 'create <name>',
  describe: 'Create (or update) a schedule: a CronJob that backs up and prunes in the cluster',
  builder: (y) =>
    signOptions(
      retentionOptions(
        installOption(
          backupFlags(y),
          `Namespace that holds the schedule (CronJob, ServiceAccount, Secret); default ${DEFAULT_INSTALL_NAMESPACE}, or the first backed-up namespace when you may not create ClusterRoles (then the schedule is namespaced-only: Roles, no ClusterRole)`,
          '',
        ),
      ),
      'Sign each snapshot with this Ed25519 private key (PEM); it is copied into the schedule Secret, never into args',
    )
      .positional('name', { type: 'string', demandOption: true, describe: 'Schedule name' })
      .option('schedule', {
        type: 'string',
        describe:
          'Cron expression, e.g. "0 2 * * *" or @daily (required unless --from-velero-schedule)',
      })
      .option('from-velero-schedule', {
        type: 'string',
        requiresArg: true,
        describe:
          'Translate this Velero Schedule (NAMESPACE/NAME; NAME alone: in velero); each flag given replaces the field it corresponds to, --labels adds (docs/velero.md)',
      })
      // Unset unless given, so a Velero Schedule's includeClusterResources can stand.
      .default('include-cluster-resources', undefined)
      .option('time-zone', {
        type: 'string',
        describe:
          "IANA time zone of the cron expression and of the keep rules (default: the controller manager's, usually UTC)",
      })
      .option('image', {
        type: 'string',
        describe:
          'Image with the kubectl-snapshot binary at /kubectl-snapshot (see the Dockerfile)',
      })
      .option('suspend', { type: 'boolean', describe: 'Create it suspended' })
      .option('dry-run', {
        type: 'boolean',
        describe:
          'Print the manifests (-o yaml|json) instead of applying them; Secret values are redacted',
      })
      .example(
        '$0 schedule create nightly -n shop --schedule "0 2 * * *" --time-zone Europe/Berlin --storage s3://backups/prod?endpoint=https://minio:9000 --keep-daily 7 --keep-weekly 4',
        'Back up shop every night at 02:00 Berlin time',
      )
      .example(
        '$0 schedule create nightly --from-velero-schedule velero/nightly --storage backups --dry-run',
        'Print the schedule a Velero Schedule translates to, and what it cannot carry over',
      ) as Argv<CreateArgs>,
  options: createOptions,
  run: async ({ io, kube }, given) => {
    // A Velero Schedule is read with the same client that applies the schedule.
    let client: KubeClient | undefined;
    let o: ScheduleCreateOptions;
    if ('fromVelero' in given) {
      client = await kube(given.kube);
      o = await fromVeleroSchedule(io, client, given);
    } else o = given;
    const { resolveScheduleStorage } = await import('../../../schedule/storage.js');
    const { createSchedule } = await import('../../../schedule/apply.js');
    const signing = await readSigningKey(o.signKeyFile);
    const storage = await resolveScheduleStorage(o.storage, io.env);
    await checkSigningKey(signing, storage);
    if (storage.requireEncryption && o.encryptTo.length === 0) {
      throw new UserError(
        'the storage location requires encrypted backups',
        'add --encrypt-to RECIPIENT (an age public key); the matching identity stays with you',
      );
    }
    const r = await createSchedule(
      client ?? (await kube(o.kube)),
      {
        name: o.name,
        installNamespace: o.installNamespace ?? '',
        schedule: o.schedule.expression,
        ...(o.timeZone !== undefined ? { timeZone: o.timeZone } : {}),
        suspend: o.suspend,
        image: o.image,
        storage: storage.location,
        selection: o.selection,
        ...(o.ttl ? { ttl: o.ttl.text } : {}),
        labels: o.labels,
        encryptTo: o.encryptTo,
        ...(signing ? { sign: true } : {}),
        keep: o.policy.keep,
      },
      storage,
      o.dryRun,
      signing?.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    );
    for (const w of [...storage.warnings, ...r.warnings]) io.stderr.write(`warning: ${w}\n`);
    if (o.dryRun) {
      if (o.output === 'table') return; // refused by the options
      await printObjects(io, [r.rendered.namespace, ...r.rendered.objects], o.output);
      return;
    }
    const { objectRef } = await import('../../../schedule/objects.js');
    const ns = r.spec.installNamespace;
    const refs = r.rendered.objects.map(objectRef);
    if (o.output !== 'table') {
      io.stdout.write(
        await formatData(
          {
            name: o.name,
            namespace: ns,
            namespacedOnly: r.spec.namespacedOnly === true,
            created: r.created,
            namespaceCreated: r.namespaceCreated,
            applied: refs,
            removed: r.removed,
          },
          o.output,
        ),
      );
      return;
    }
    if (r.namespaceCreated) io.stdout.write(`namespace/${ns} created\n`);
    for (const ref of refs) io.stdout.write(`${ref} applied\n`);
    for (const ref of r.removed)
      io.stdout.write(`${ref} deleted (no longer part of the schedule)\n`);
    if (r.spec.namespacedOnly)
      io.stdout.write(
        `info: namespaced-only schedule (you may not create ClusterRoles): Roles in ${r.rendered.rbac.namespaces.join(', ')}, no ClusterRole; its backups leave out cluster-scoped objects\n`,
      );
    const next = o.suspend
      ? 'suspended'
      : `next run ${upcomingRuns(o.schedule, 1, o.timeZone)[0] ?? 'never'}`;
    io.stdout.write(
      `schedule ${o.name} ${r.created ? 'created' : 'configured'} in namespace ${ns} (${next})\n`,
    );
  },
};
