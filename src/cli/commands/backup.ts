import type { Argv } from 'yargs';
import type { BackupProgress } from '../../backup/run.js';
import { CommandFailed, EXIT, UserError } from '../../core/errors.js';
import { validateSnapshotName } from '../../core/names.js';
import type { Selection, SnapshotManifest } from '../../core/types.js';
import type { SnapshotRepository } from '../../snapshots/repository.js';
import {
  BACKUP_FORMATS,
  type BackupFormat,
  chooseBackupFormat,
  VELERO_DEFAULT_TTL_MS,
} from '../../snapshots/velero/format.js';
import { VERSION } from '../../version.js';
import type { Command } from '../command.js';
import {
  type CommonOptions,
  commonFrom,
  type EncryptArgs,
  type EncryptionSpec,
  encryptionFrom,
  lastValue,
  parseLabels,
  type SelectionArgs,
  type SignArgs,
  selectionFrom,
  selectionOptions,
  signKeyFileFrom,
  signOptions,
  ttlFrom,
} from '../flags.js';
import { readEncryption, readSigningKey, signingRepository } from '../keys.js';
import { formatData, humanBytes, sanitize, table } from '../output.js';
import { Progress } from '../progress.js';

interface BackupArgs extends SelectionArgs, EncryptArgs, SignArgs {
  name?: string;
  format?: BackupFormat;
  ttl?: string;
  labels?: string[];
}

export interface BackupCommandOptions extends CommonOptions {
  /** Absent: `<namespace>-<UTC timestamp>`, made when the backup starts. */
  name?: string;
  /** --format; absent: the location's layout decides (Velero's in a Velero location). */
  format?: BackupFormat;
  selection: Selection;
  ttlMs?: number;
  labels: Record<string, string>;
  encryption?: EncryptionSpec;
  /** --sign-key: the Ed25519 private key (PEM) that signs snapshot.json, read when it runs. */
  signKeyFile?: string;
}

/** The same store as a Velero backup storage location: a backup written in Velero's format. */
async function veleroRepository(store: SnapshotRepository): Promise<SnapshotRepository> {
  const { VeleroRepository } = await import('../../snapshots/velero/repository.js');
  return store instanceof VeleroRepository ? store : new VeleroRepository(store.store);
}

/** Shows a backup's progress (lists done, objects, bytes) on a progress line. */
export function backupProgress(progress: Progress): (p: BackupProgress) => void {
  return (p) =>
    progress.update({
      done: p.listsDone,
      total: p.listsTotal,
      unit: 'lists',
      objects: p.objects,
      bytes: p.bytes,
    });
}

export function backupSummary(m: SnapshotManifest): string {
  const rows = m.resources.map((r) => [r.resource, r.count]);
  const state = m.phase === 'PartiallyFailed' ? 'is partial' : 'completed';
  let out = `Snapshot ${m.name} ${state}: ${m.totalObjects} objects from ${m.namespaces.length} namespace(s), ${humanBytes(m.archive.size)}\n\n`;
  out += table(['RESOURCE', 'OBJECTS'], rows);
  if (m.warnings.length > 0) {
    out += `\n${m.warnings.length} warning(s), left out of the snapshot:\n`;
    for (const w of m.warnings) out += `  - ${sanitize(w.message)}\n`;
  }
  return out;
}

/** A backup that left out types it could not read: kept, exit 2, not counted by retention. */
export function partialBackup(m: SnapshotManifest): CommandFailed {
  return new CommandFailed(
    EXIT.partial,
    `snapshot ${m.name} is partial: some selected types could not be read (listed above); it is kept, but retention does not count it as a good snapshot`,
  );
}

export const backupCommand: Command<BackupArgs, BackupCommandOptions> = {
  command: 'backup [name]',
  describe: 'Back up namespaces into a snapshot',
  builder: (y) =>
    signOptions(
      selectionOptions(y),
      'Sign snapshot.json with this Ed25519 private key (PEM, from openssl genpkey -algorithm ed25519)',
    )
      .positional('name', {
        type: 'string',
        describe: 'Snapshot name (default: <namespace>-<UTC timestamp>)',
      })
      .option('ttl', {
        type: 'string',
        requiresArg: true,
        coerce: lastValue,
        describe:
          "Expire the snapshot after this long (e.g. 720h); prune deletes it then (--format velero: 720h unless given, and Velero's garbage collector deletes it)",
      })
      .option('format', {
        type: 'string',
        choices: BACKUP_FORMATS,
        requiresArg: true,
        coerce: lastValue,
        describe:
          "Archive format: snapshot (ours) or velero (Velero's backup layout, which velero restore reads; default in a layout=velero location)",
      })
      .option('labels', {
        type: 'string',
        array: true,
        describe: 'Labels to record on the snapshot, KEY=VALUE',
      })
      .option('encrypt-to', {
        type: 'string',
        array: true,
        describe: 'Encrypt for this age recipient (X25519 public key age1…; repeatable)',
      })
      .option('encrypt-passphrase-file', {
        type: 'string',
        coerce: lastValue,
        describe: 'Encrypt with the passphrase in this file (first line)',
      })
      .example('$0 backup -n shop', 'Back up namespace shop to the default location')
      .example(
        '$0 backup nightly -A --exclude-namespace kube-system --storage s3://bucket/prefix',
        'All namespaces to S3',
      )
      .example(
        "$0 backup shop-1 -n shop --format velero --storage 's3://bucket/velero?layout=velero'",
        'A backup Velero lists and restores (into its backup storage location)',
      ) as Argv<BackupArgs>,
  options: (a) => {
    const common = commonFrom(a);
    const selection = selectionFrom(a);
    if (a.name !== undefined) validateSnapshotName(a.name);
    const encryption = encryptionFrom(a);
    const ttlMs = ttlFrom(a.ttl);
    const signKeyFile = signKeyFileFrom(a);
    // What the flags alone rule out; the location's layout is checked once it is resolved.
    chooseBackupFormat({
      ...(a.format ? { flag: a.format } : {}),
      encrypted: encryption !== undefined,
      signed: signKeyFile !== undefined,
    });
    return {
      ...common,
      ...(a.name !== undefined ? { name: a.name } : {}),
      ...(a.format ? { format: a.format } : {}),
      selection,
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      labels: parseLabels(a.labels),
      ...(encryption ? { encryption } : {}),
      ...(signKeyFile !== undefined ? { signKeyFile } : {}),
    };
  },
  run: async (deps, o) => {
    const { io } = deps;
    const encryption = await readEncryption(o.encryption);
    const signing = await readSigningKey(o.signKeyFile);
    const { runBackup } = await import('../../backup/run.js');
    // The location first: what its layout rules out is refused before the cluster is reached.
    const { snapshots: store, location } = await deps.storage(o.storage);
    const format = chooseBackupFormat({
      ...(o.format ? { flag: o.format } : {}),
      ...(location.layout ? { layout: location.layout } : {}),
      encrypted: encryption !== undefined,
      signed: signing !== undefined,
      ...(location.requireEncryption ? { requireEncryption: true } : {}),
      ...(location.name ? { locationName: location.name } : {}),
    });
    if (location.requireEncryption && !encryption) {
      throw new UserError(
        `storage location "${location.name}" requires encrypted backups`,
        'add --encrypt-to RECIPIENT (age public key) or --encrypt-passphrase-file FILE',
      );
    }
    const client = await deps.kube(o.kube);
    const snapshots =
      format === 'velero'
        ? await veleroRepository(store)
        : await signingRepository(store, location, signing);
    // A Velero backup always expires: Velero's garbage collector deletes it then.
    const ttlMs = o.ttlMs ?? (format === 'velero' ? VELERO_DEFAULT_TTL_MS : undefined);
    const progress = Progress.for(io.stderr, !o.progress);
    try {
      const manifest = await runBackup(
        { client, snapshots, toolVersion: VERSION },
        {
          ...(o.name ? { name: o.name } : {}),
          selection: o.selection,
          ...(ttlMs ? { ttlMs } : {}),
          ...(encryption ? { encryption } : {}),
          labels: o.labels,
          onProgress: backupProgress(progress),
          signal: deps.stopSignal(),
        },
      );
      progress.done();
      io.stdout.write(
        o.output === 'table' ? backupSummary(manifest) : await formatData(manifest, o.output),
      );
      const secrets = manifest.resources.find((r) => r.resource === 'secrets')?.count ?? 0;
      if (!encryption && location.kind === 's3' && secrets > 0) {
        io.stderr.write(
          `warning: ${secrets} Secret(s) stored unencrypted in ${location.url}; ${format === 'velero' ? "Velero's format cannot be encrypted: encrypt the bucket" : 'use --encrypt-to to encrypt backups'}\n`,
        );
      }
      if (format === 'velero' && location.layout !== 'velero')
        io.stderr.write(
          `note: written in Velero's layout (backups/${manifest.name}/); read it back with --storage '${location.url}${location.url.includes('?') ? '&' : '?'}layout=velero'\n`,
        );
      if (manifest.phase === 'PartiallyFailed') throw partialBackup(manifest);
    } finally {
      progress.done();
    }
  },
};
