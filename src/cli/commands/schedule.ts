import type { Argv, CommandModule } from 'yargs';
import { parseDuration } from '../../core/duration.js';
import { UserError } from '../../core/errors.js';
import type { KubeObject, SnapshotManifest } from '../../core/types.js';
import type { ScheduleInfo } from '../../schedule/status.js';
import { VERSION } from '../../version.js';
import {
  connectKube,
  type GlobalArgs,
  type Guard,
  type Io,
  openSnapshots,
  type RunState,
} from '../context.js';
import { age, formatData, parseOutput, table } from '../output.js';
import { Progress } from '../progress.js';
import {
  backupProgress,
  backupSummary,
  encryptionFromArgs,
  parseLabels,
  selectionFromArgs,
  selectionOptions,
} from './backup.js';
import {
  keepFromArgs,
  policyFromArgs,
  pruneSummary,
  type RetentionArgs,
  retentionOptions,
} from './prune.js';

// Equal to render.ts's DEFAULT_INSTALL_NAMESPACE; not imported so that --help stays light.
const DEFAULT_INSTALL_NAMESPACE = 'kubectl-snapshot';

interface InstallArgs extends GlobalArgs {
  'install-namespace': string;
}

interface SelectionArgs {
  'all-namespaces'?: boolean;
  'exclude-namespace'?: string[];
  selector?: string;
  'include-resources'?: string[];
  'exclude-resources'?: string[];
  'include-cluster-resources'?: string;
  ttl?: string;
  labels?: string[];
  'encrypt-to'?: string[];
}

interface CreateArgs extends InstallArgs, SelectionArgs, RetentionArgs {
  name: string;
  schedule: string;
  image?: string;
  suspend?: boolean;
  'dry-run'?: boolean;
}

interface NameArgs extends InstallArgs {
  name: string;
}

interface NamesArgs extends InstallArgs {
  names: string[];
}

interface ExecArgs extends GlobalArgs, SelectionArgs, RetentionArgs {
  name: string;
}

function installOption<T>(y: Argv<T>): Argv<T & { 'install-namespace': string }> {
  return y.option('install-namespace', {
    type: 'string',
    default: DEFAULT_INSTALL_NAMESPACE,
    describe: 'Namespace that holds the schedules (CronJobs, ServiceAccounts, Secrets)',
  });
}

function backupFlags<T>(y: Argv<T>): Argv<T> {
  return selectionOptions(y)
    .option('ttl', {
      type: 'string',
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
    });
}

function when(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '<none>';
  const a = age(iso, now);
  return a.startsWith('in ') ? a : `${a} ago`;
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

function createCommand(io: Io): CommandModule<GlobalArgs, CreateArgs> {
  return {
    command: 'create <name>',
    describe: 'Create (or update) a schedule: a CronJob that backs up and prunes in the cluster',
    builder: (y) =>
      retentionOptions(installOption(backupFlags(y)))
        .positional('name', { type: 'string', demandOption: true, describe: 'Schedule name' })
        .option('schedule', {
          type: 'string',
          demandOption: true,
          describe: 'Cron expression, e.g. "0 2 * * *" or @daily',
        })
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
        ) as Argv<CreateArgs>,
    handler: async (a) => {
      const dryRun = a['dry-run'] === true;
      const format = parseOutput(a.output ?? (dryRun ? 'yaml' : 'table'));
      if (dryRun && format === 'table')
        throw new UserError('--dry-run prints manifests: use -o yaml or -o json');
      // Everything a user can get wrong is checked before the cluster is touched.
      const { parseCron } = await import('../../schedule/cron.js');
      const { validateTimeZone } = await import('../../core/time-zone.js');
      const { DEFAULT_IMAGE, validateScheduleName } = await import('../../schedule/render.js');
      const { validateSelection } = await import('../../backup/run.js');
      validateScheduleName(a.name);
      parseCron(a.schedule);
      if (a['time-zone'] !== undefined) validateTimeZone(a['time-zone']);
      const selection = selectionFromArgs(a);
      validateSelection(selection);
      if (a.ttl) parseDuration(a.ttl);
      const labels = parseLabels(a.labels);
      if (Object.hasOwn(labels, 'kubectl-snapshot/schedule'))
        throw new UserError('--labels may not set kubectl-snapshot/schedule: the schedule sets it');
      policyFromArgs({ ...a, 'time-zone': a['time-zone'] ?? 'UTC' }, true);
      const { splitList } = await import('../../core/resources.js');
      const { validateRecipient } = await import('../../crypto/age.js');
      const encryptTo = splitList(a['encrypt-to']).map(validateRecipient);
      const image = a.image ?? DEFAULT_IMAGE;
      if (image.trim() === '' || /\s/.test(image))
        throw new UserError(`invalid --image "${image}"`);
      const { isDns1123Label } = await import('../../core/names.js');
      if (!isDns1123Label(a['install-namespace']))
        throw new UserError(`invalid --install-namespace "${a['install-namespace']}"`);

      const { resolveScheduleStorage } = await import('../../schedule/storage.js');
      const { createSchedule } = await import('../../schedule/apply.js');
      const storage = await resolveScheduleStorage(a.storage, io.env);
      if (storage.requireEncryption && encryptTo.length === 0) {
        throw new UserError(
          'the storage location requires encrypted backups',
          'add --encrypt-to RECIPIENT (an age public key); the matching identity stays with you',
        );
      }
      const client = await connectKube(a);
      const r = await createSchedule(
        client,
        {
          name: a.name,
          installNamespace: a['install-namespace'],
          schedule: a.schedule.trim(),
          ...(a['time-zone'] !== undefined ? { timeZone: a['time-zone'] } : {}),
          suspend: a.suspend === true,
          image,
          storage: storage.location,
          selection,
          ...(a.ttl ? { ttl: a.ttl } : {}),
          labels,
          encryptTo,
          keep: keepFromArgs(a),
        },
        storage,
        dryRun,
      );
      for (const w of [...storage.warnings, ...r.warnings]) io.stderr.write(`warning: ${w}\n`);
      if (dryRun) {
        if (format === 'table') return; // refused above
        await printObjects(io, [r.rendered.namespace, ...r.rendered.objects], format);
        return;
      }
      const { objectRef } = await import('../../schedule/objects.js');
      const refs = r.rendered.objects.map(objectRef);
      if (format !== 'table') {
        io.stdout.write(
          await formatData(
            {
              name: a.name,
              namespace: a['install-namespace'],
              created: r.created,
              namespaceCreated: r.namespaceCreated,
              applied: refs,
              removed: r.removed,
            },
            format,
          ),
        );
        return;
      }
      if (r.namespaceCreated) io.stdout.write(`namespace/${a['install-namespace']} created\n`);
      for (const ref of refs) io.stdout.write(`${ref} applied\n`);
      for (const ref of r.removed)
        io.stdout.write(`${ref} deleted (no longer part of the schedule)\n`);
      const { nextRuns } = await import('../../schedule/cron.js');
      const next = a.suspend
        ? 'suspended'
        : `next run ${nextRuns(parseCron(a.schedule), new Date(), 1, a['time-zone'] ?? 'UTC')[0]?.toISOString() ?? 'never'}`;
      io.stdout.write(
        `schedule ${a.name} ${r.created ? 'created' : 'configured'} in namespace ${a['install-namespace']} (${next})\n`,
      );
    },
  };
}

/** The newest snapshot of each schedule, read from each schedule's storage with the user's credentials. */
async function lastSnapshots(
  io: Io,
  infos: ScheduleInfo[],
): Promise<Map<string, SnapshotManifest | undefined | Error>> {
  const out = new Map<string, SnapshotManifest | undefined | Error>();
  const { openStore, parseLocationUrl } = await import('../../storage/locations.js');
  const { SnapshotRepository } = await import('../../snapshots/repository.js');
  for (const s of infos) {
    if (!s.storage) continue;
    try {
      const store = await openStore(parseLocationUrl(s.storage, io.env), io.env);
      out.set(s.name, await new SnapshotRepository(store).newestOfSchedule(s.name));
    } catch (err) {
      out.set(s.name, err instanceof Error ? err : new Error(String(err)));
    }
  }
  return out;
}

function listCommand(io: Io): CommandModule<GlobalArgs, InstallArgs> {
  return {
    command: 'list',
    aliases: ['ls'],
    describe: 'List schedules',
    builder: (y) => installOption(y) as Argv<InstallArgs>,
    handler: async (a) => {
      const format = parseOutput(a.output);
      const { listSchedules } = await import('../../schedule/status.js');
      const client = await connectKube(a);
      const infos = await listSchedules(client, a['install-namespace']);
      const last = await lastSnapshots(io, infos);
      const lastOf = (name: string) => {
        const v = last.get(name);
        return v instanceof Error ? undefined : v;
      };
      for (const [name, v] of last)
        if (v instanceof Error)
          io.stderr.write(`warning: cannot read the snapshots of schedule ${name}: ${v.message}\n`);
      if (format !== 'table') {
        io.stdout.write(
          await formatData(
            infos.map((s) => {
              const m = lastOf(s.name);
              return {
                ...s,
                ...(m ? { lastSnapshot: { name: m.name, completedAt: m.completedAt } } : {}),
              };
            }),
            format,
          ),
        );
        return;
      }
      if (infos.length === 0) {
        io.stderr.write(`No schedules in namespace ${a['install-namespace']}\n`);
        return;
      }
      io.stdout.write(
        table(
          [
            'NAME',
            'SCHEDULE',
            'TIMEZONE',
            'SUSPEND',
            'ACTIVE',
            'LAST RUN',
            'NEXT RUN',
            'LAST SNAPSHOT',
          ],
          infos.map((s) => {
            const m = last.get(s.name);
            return [
              s.name,
              s.schedule,
              s.timeZone ?? '<none>',
              String(s.suspended),
              s.active,
              when(s.lastScheduleTime),
              s.suspended ? '<suspended>' : when(s.nextRun),
              m instanceof Error
                ? '<unknown>'
                : m
                  ? `${m.name} (${when(m.completedAt)})`
                  : '<none>',
            ];
          }),
        ),
      );
    },
  };
}

function describeCommand(io: Io): CommandModule<GlobalArgs, NameArgs> {
  return {
    command: 'describe <name>',
    describe: 'Show a schedule: its options, rights, runs and next runs',
    builder: (y) =>
      installOption(y).positional('name', { type: 'string', demandOption: true }) as Argv<NameArgs>,
    handler: async (a) => {
      const format = parseOutput(a.output);
      const { describeSchedule } = await import('../../schedule/status.js');
      const { describeRule } = await import('../../schedule/render.js');
      const { KEEP_RULES } = await import('../../snapshots/retention.js');
      const client = await connectKube(a);
      const d = await describeSchedule(client, a.name, a['install-namespace']);
      const last = (await lastSnapshots(io, [d])).get(d.name);
      if (format !== 'table') {
        io.stdout.write(
          await formatData(
            {
              ...d,
              ...(last && !(last instanceof Error)
                ? { lastSnapshot: { name: last.name, completedAt: last.completedAt } }
                : {}),
            },
            format,
          ),
        );
        return;
      }
      const sel = d.selection;
      const keep = KEEP_RULES.filter((r) => (d.keep?.[r] ?? 0) > 0)
        .map((r) => `keep-${r} ${d.keep?.[r]}`)
        .join(', ');
      const lines = [
        `Name:             ${d.name}`,
        `Namespace:        ${d.namespace}`,
        `Schedule:         ${d.schedule}${d.timeZone ? ` (${d.timeZone})` : ' (controller manager time zone)'}`,
        `Suspended:        ${d.suspended}`,
        `Image:            ${d.image ?? '<unknown>'}`,
        `Storage:          ${d.storage ?? '<unknown>'}`,
        `Service account:  ${d.serviceAccount}`,
      ];
      if (sel) {
        lines.push(
          'Backs up:',
          `  namespaces:          ${sel.allNamespaces ? '* (all)' : sel.namespaces.join(', ')}`,
          `  excluded namespaces: ${sel.excludeNamespaces.join(', ') || '<none>'}`,
          `  label selector:      ${sel.labelSelector ?? '<none>'}`,
          `  resources:           ${sel.includeResources.join(', ') || '*'}`,
          `  excluded resources:  ${sel.excludeResources.join(', ') || '<none>'}`,
          `  cluster resources:   ${sel.includeClusterResources}`,
        );
      }
      lines.push(
        `Retention:        ${keep || 'keep everything'}${d.ttl ? `; snapshots expire after ${d.ttl}` : ''}`,
        `Last scheduled:   ${d.lastScheduleTime ?? '<never>'}`,
        `Last successful:  ${d.lastSuccessfulTime ?? '<never>'}`,
        `Next runs:        ${d.nextRuns.join(', ') || (d.suspended ? '<suspended>' : '<none>')}`,
        `Last snapshot:    ${
          last instanceof Error
            ? `<unknown: ${last.message}>`
            : last
              ? `${last.name} (completed ${last.completedAt}, ${last.totalObjects} objects)`
              : '<none>'
        }`,
        'Rights (read-only):',
      );
      for (const role of d.rules) {
        lines.push(`  ${role.role}${role.namespace ? ` in ${role.namespace}` : ''}:`);
        for (const rule of role.rules as Parameters<typeof describeRule>[0][])
          lines.push(`    ${describeRule(rule)}`);
      }
      lines.push('Jobs:');
      if (d.jobs.length === 0) lines.push('  <none>');
      io.stdout.write(`${lines.join('\n')}\n`);
      if (d.jobs.length > 0) {
        const rows = table(
          ['NAME', 'STATUS', 'TRIGGER', 'CREATED', 'COMPLETED'],
          d.jobs.map((j) => [
            j.name,
            j.status,
            j.manual ? 'manual' : 'schedule',
            j.created ?? '',
            j.completed ?? '',
          ]),
        );
        io.stdout.write(rows.replace(/^(?=.)/gm, '  '));
      }
    },
  };
}

function deleteCommand(io: Io): CommandModule<GlobalArgs, NamesArgs> {
  return {
    command: 'delete <names..>',
    describe: 'Delete schedules and everything they created in the cluster (snapshots stay)',
    builder: (y) =>
      installOption(y).positional('names', {
        type: 'string',
        array: true,
        demandOption: true,
      }) as Argv<NamesArgs>,
    handler: async (a) => {
      const { deleteSchedule } = await import('../../schedule/owned.js');
      const client = await connectKube(a);
      for (const name of a.names.map(String)) {
        const removed = await deleteSchedule(client, name, a['install-namespace']);
        for (const ref of removed) io.stdout.write(`${ref} deleted\n`);
        io.stdout.write(`schedule ${name} deleted\n`);
      }
    },
  };
}

function runCommand(io: Io): CommandModule<GlobalArgs, NameArgs> {
  return {
    command: 'run <name>',
    describe: "Start a run now: a Job from the schedule's CronJob",
    builder: (y) =>
      installOption(y).positional('name', { type: 'string', demandOption: true }) as Argv<NameArgs>,
    handler: async (a) => {
      const format = parseOutput(a.output);
      const { runScheduleNow } = await import('../../schedule/owned.js');
      const client = await connectKube(a);
      const job = await runScheduleNow(client, a.name, a['install-namespace']);
      if (format !== 'table') io.stdout.write(await formatData(job, format));
      else
        io.stdout.write(
          `job.batch/${job.metadata.name} created in namespace ${a['install-namespace']}\n`,
        );
    },
  };
}

function suspendCommand(io: Io, suspend: boolean): CommandModule<GlobalArgs, NameArgs> {
  return {
    command: `${suspend ? 'suspend' : 'resume'} <name>`,
    describe: suspend ? 'Stop a schedule from starting runs' : 'Let a suspended schedule run again',
    builder: (y) =>
      installOption(y).positional('name', { type: 'string', demandOption: true }) as Argv<NameArgs>,
    handler: async (a) => {
      const { setSuspended } = await import('../../schedule/owned.js');
      const client = await connectKube(a);
      await setSuspended(client, a.name, a['install-namespace'], suspend);
      io.stdout.write(`schedule ${a.name} ${suspend ? 'suspended' : 'resumed'}\n`);
    },
  };
}

/** What the CronJob's container runs: one backup, then the schedule's prune. Hidden. */
function execCommand(io: Io, state: RunState): CommandModule<GlobalArgs, ExecArgs> {
  return {
    command: 'exec <name>',
    describe: false,
    builder: (y) =>
      retentionOptions(backupFlags(y))
        .positional('name', { type: 'string', demandOption: true })
        .option('time-zone', { type: 'string', default: 'UTC' }) as Argv<ExecArgs>,
    handler: async (a) => {
      const { validateScheduleName } = await import('../../schedule/render.js');
      const { validateSelection } = await import('../../backup/run.js');
      validateScheduleName(a.name);
      const selection = selectionFromArgs(a);
      validateSelection(selection);
      const ttlMs = a.ttl ? parseDuration(a.ttl) : undefined;
      const labels = parseLabels(a.labels);
      const policy = policyFromArgs(a, true);
      // Recipients only: a schedule never gets a passphrase or an identity.
      const encryption = await encryptionFromArgs({ 'encrypt-to': a['encrypt-to'] });
      const { execSchedule } = await import('../../schedule/exec.js');
      const [client, snapshots] = await Promise.all([connectKube(a), openSnapshots(a, io.env)]);
      const progress = Progress.for(io.stderr, a.progress === false);
      let result: Awaited<ReturnType<typeof execSchedule>>;
      try {
        result = await execSchedule(
          { client, snapshots, toolVersion: VERSION },
          {
            schedule: a.name,
            selection,
            ...(ttlMs ? { ttlMs } : {}),
            labels,
            ...(encryption ? { encryption } : {}),
            policy,
            onProgress: backupProgress(progress),
          },
        );
      } finally {
        progress.done();
      }
      io.stdout.write(backupSummary(result.manifest));
      const secrets = result.manifest.resources.find((r) => r.resource === 'secrets')?.count ?? 0;
      if (!encryption && secrets > 0)
        io.stderr.write(
          `warning: ${secrets} Secret(s) stored unencrypted; give the schedule --encrypt-to to encrypt backups\n`,
        );
      io.stdout.write(`\nprune (schedule ${a.name}):\n${pruneSummary(result.prune)}`);
      if (result.prune.failed.length > 0) {
        io.stderr.write(
          `error: ${result.prune.failed.length} snapshot(s) could not be pruned: ${result.prune.failed
            .map((f) => f.name)
            .join(', ')}\n`,
        );
        state.exitCode = 2;
      }
    },
  };
}

export function scheduleCommand(
  io: Io,
  g: Guard,
  state: RunState,
): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'schedule <command>',
    describe: 'Periodic backups as CronJobs that run this same binary in the cluster',
    builder: (y) =>
      y
        .command(g(createCommand(io)))
        .command(g(listCommand(io)))
        .command(g(describeCommand(io)))
        .command(g(deleteCommand(io)))
        .command(g(runCommand(io)))
        .command(g(suspendCommand(io, true)))
        .command(g(suspendCommand(io, false)))
        .command(g(execCommand(io, state)))
        .demandCommand(1, 'name a schedule command; see --help'),
    handler: () => {},
  };
}
