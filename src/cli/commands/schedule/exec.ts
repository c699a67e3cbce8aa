// `schedule exec` (hidden): what the CronJob's container runs, one backup and then the
// schedule's prune.
import type { Argv } from 'yargs';
import { CommandFailed, EXIT, UserError } from '../../../core/errors.js';
import { SIGN_KEY_VAR, validateScheduleName } from '../../../schedule/render.js';
import { VERSION } from '../../../version.js';
import type { Command, KubeTarget } from '../../command.js';
import { kubeFrom, type RetentionArgs, retentionOptions } from '../../flags.js';
import { Progress } from '../../progress.js';
import { backupProgress, backupSummary, partialBackup } from '../backup.js';
import { pruneSummary } from '../prune.js';
import {
  type BackupFlagArgs,
  backupFlags,
  type ScheduledBackup,
  scheduledBackupFrom,
} from './shared.js';

interface ExecArgs extends BackupFlagArgs, RetentionArgs {
  name: string;
  sign?: boolean;
}

export interface ScheduleExecOptions extends ScheduledBackup {
  kube: KubeTarget;
  storage?: string;
  /** Show a progress line (on a terminal). */
  progress: boolean;
  name: string;
  /** The Ed25519 private key (PEM) from the schedule's Secret (SIGN_KEY_VAR), with --sign. */
  signingKeyPem?: string;
}

export const execCommand: Command<ExecArgs, ScheduleExecOptions> = {
  command: 'exec <name>',
  // Hidden: yargs takes `false` for a command left out of --help.
  describe: false,
  builder: (y) =>
    retentionOptions(backupFlags(y))
      .positional('name', { type: 'string', demandOption: true })
      .option('time-zone', { type: 'string', default: 'UTC' })
      .option('sign', {
        type: 'boolean',
        describe: `Sign with the private key (PEM) in $${SIGN_KEY_VAR} (the schedule's Secret)`,
      }) as Argv<ExecArgs>,
  options: (a, env) => {
    validateScheduleName(a.name);
    const pem = env[SIGN_KEY_VAR];
    if (a.sign === true && !pem)
      throw new UserError(
        `schedule ${a.name} signs its snapshots, and $${SIGN_KEY_VAR} is empty`,
        `the schedule's Secret must hold ${SIGN_KEY_VAR}; create the schedule again with --sign-key`,
      );
    return {
      kube: kubeFrom(a),
      ...(a.storage !== undefined ? { storage: a.storage } : {}),
      progress: a.progress !== false,
      name: a.name,
      ...(a.sign === true && pem ? { signingKeyPem: pem } : {}),
      ...scheduledBackupFrom(a, a['time-zone'] ?? 'UTC', false),
    };
  },
  run: async ({ io, kube, storage, stopSignal }, o) => {
    const { execSchedule } = await import('../../../schedule/exec.js');
    const { parseSigningKey } = await import('../../../crypto/sign.js');
    const signing =
      o.signingKeyPem !== undefined
        ? parseSigningKey(o.signingKeyPem, `$${SIGN_KEY_VAR}`)
        : undefined;
    const [client, opened] = await Promise.all([kube(o.kube), storage(o.storage)]);
    const snapshots = signing ? opened.snapshots.signingWith(signing) : opened.snapshots;
    const encryption = o.encryptTo.length > 0 ? { recipients: o.encryptTo } : undefined;
    const progress = Progress.for(io.stderr, !o.progress);
    let result: Awaited<ReturnType<typeof execSchedule>>;
    try {
      result = await execSchedule(
        { client, snapshots, toolVersion: VERSION },
        {
          schedule: o.name,
          selection: o.selection,
          ...(o.ttl ? { ttlMs: o.ttl.ms } : {}),
          labels: o.labels,
          ...(encryption ? { encryption } : {}),
          policy: o.policy,
          onProgress: backupProgress(progress),
          signal: stopSignal(),
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
    if (!result.prune) {
      io.stdout.write(`\nprune (schedule ${o.name}): skipped, the backup was partial\n`);
      throw partialBackup(result.manifest);
    }
    io.stdout.write(`\nprune (schedule ${o.name}):\n${pruneSummary(result.prune)}`);
    const failed = result.prune.failed;
    if (failed.length > 0) {
      throw new CommandFailed(
        EXIT.partial,
        `${failed.length} snapshot(s) could not be pruned: ${failed.map((f) => f.name).join(', ')}`,
      );
    }
  },
};
