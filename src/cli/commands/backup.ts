import type { Argv, CommandModule } from 'yargs';
import type { BackupProgress } from '../../backup/run.js';
import { parseDuration } from '../../core/duration.js';
import { UserError } from '../../core/errors.js';
import { splitList } from '../../core/resources.js';
import type { ClusterResourcesMode, Selection, SnapshotManifest } from '../../core/types.js';
import type { EncryptionKey } from '../../crypto/age.js';
import { VERSION } from '../../version.js';
import { connectKube, type GlobalArgs, type Io, openLocation } from '../context.js';
import { formatData, humanBytes, parseOutput, table } from '../output.js';
import { Progress } from '../progress.js';

interface BackupArgs extends GlobalArgs, FilterArgs {
  name?: string;
  'all-namespaces'?: boolean;
  'exclude-namespace'?: string[];
  ttl?: string;
  labels?: string[];
  'encrypt-to'?: string[];
  'encrypt-passphrase-file'?: string;
}

/** What backup and restore share for picking objects: labels, resource types, cluster scope. */
export interface FilterArgs {
  selector?: string;
  'include-resources'?: string[];
  'exclude-resources'?: string[];
  'include-cluster-resources'?: string;
}

export function filterOptions<T>(y: Argv<T>, clusterHelp: string): Argv<T> {
  return y
    .option('selector', {
      alias: 'l',
      type: 'string',
      describe: 'Only objects matching this label selector (kubectl syntax)',
    })
    .option('include-resources', {
      type: 'string',
      array: true,
      describe: 'Only these resource types (kubectl names, comma-separated)',
    })
    .option('exclude-resources', {
      type: 'string',
      array: true,
      describe: 'Leave out these resource types',
    })
    .option('include-cluster-resources', {
      type: 'string',
      default: 'auto',
      describe: clusterHelp,
    });
}

export function clusterModeFrom(a: FilterArgs): ClusterResourcesMode {
  const mode = a['include-cluster-resources'] ?? 'auto';
  if (!['auto', 'true', 'false'].includes(mode)) {
    throw new UserError(`--include-cluster-resources must be auto, true or false, not "${mode}"`);
  }
  return mode as ClusterResourcesMode;
}

/** The selection flags, shared with `schedule create`. */
export function selectionOptions<T>(y: Argv<T>): Argv<T> {
  return filterOptions(
    y
      .option('all-namespaces', {
        alias: 'A',
        type: 'boolean',
        describe: 'Back up every namespace',
      })
      .option('exclude-namespace', {
        type: 'string',
        array: true,
        describe: 'Namespace to leave out (repeatable, comma-separated)',
      }),
    'auto: cluster objects the namespaces depend on; true: all; false: none',
  );
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

export function selectionFromArgs(a: BackupArgs): Selection {
  const mode = clusterModeFrom(a);
  return {
    namespaces: splitList(a.namespace),
    allNamespaces: a['all-namespaces'] === true,
    excludeNamespaces: splitList(a['exclude-namespace']),
    ...(a.selector !== undefined ? { labelSelector: a.selector } : {}),
    includeResources: splitList(a['include-resources']),
    excludeResources: splitList(a['exclude-resources']),
    includeClusterResources: mode,
  };
}

export function parseLabels(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of splitList(values)) {
    const i = kv.indexOf('=');
    if (i <= 0)
      throw new UserError(`invalid label "${kv}"`, 'use KEY=VALUE, e.g. --labels team=payments');
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** --encrypt-to / --encrypt-passphrase-file → the backup's encryption, validated. */
export async function encryptionFromArgs(a: {
  'encrypt-to'?: string[];
  'encrypt-passphrase-file'?: string;
}): Promise<EncryptionKey | undefined> {
  const recipients = splitList(a['encrypt-to']);
  if (recipients.length > 0 && a['encrypt-passphrase-file']) {
    throw new UserError(
      '--encrypt-to and --encrypt-passphrase-file cannot be combined',
      'age encrypts to recipients or with a passphrase, not both',
    );
  }
  const { readPassphraseFile, validateRecipient } = await import('../../crypto/age.js');
  if (a['encrypt-passphrase-file'])
    return { passphrase: readPassphraseFile(a['encrypt-passphrase-file']) };
  return recipients.length > 0 ? { recipients: recipients.map(validateRecipient) } : undefined;
}

export function backupSummary(m: SnapshotManifest): string {
  const rows = m.resources.map((r) => [r.resource, r.count]);
  let out = `Snapshot ${m.name} completed: ${m.totalObjects} objects from ${m.namespaces.length} namespace(s), ${humanBytes(m.archive.size)}\n\n`;
  out += table(['RESOURCE', 'OBJECTS'], rows);
  if (m.warnings.length > 0) {
    out += `\n${m.warnings.length} warning(s), left out of the snapshot:\n`;
    for (const w of m.warnings) out += `  - ${w.message}\n`;
  }
  return out;
}

export function backupCommand(io: Io): CommandModule<GlobalArgs, BackupArgs> {
  return {
    command: 'backup [name]',
    describe: 'Back up namespaces into a snapshot',
    builder: (y) =>
      selectionOptions(y)
        .positional('name', {
          type: 'string',
          describe: 'Snapshot name (default: <namespace>-<UTC timestamp>)',
        })
        .option('ttl', {
          type: 'string',
          describe: 'Expire the snapshot after this long (e.g. 720h); prune deletes it then',
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
          describe: 'Encrypt with the passphrase in this file (first line)',
        })
        .example('$0 backup -n shop', 'Back up namespace shop to the default location')
        .example(
          '$0 backup nightly -A --exclude-namespace kube-system --storage s3://bucket/prefix',
          'All namespaces to S3',
        ) as Argv<BackupArgs>,
    handler: async (a) => {
      const format = parseOutput(a.output, ['table', 'json', 'yaml']);
      const selection = selectionFromArgs(a);
      const ttlMs = a.ttl ? parseDuration(a.ttl) : undefined;
      const labels = parseLabels(a.labels);
      const { runBackup, validateSelection } = await import('../../backup/run.js');
      validateSelection(selection);
      const encryption = await encryptionFromArgs(a);
      const [client, { snapshots, location }] = await Promise.all([
        connectKube(a),
        openLocation(a, io.env),
      ]);
      if (location.requireEncryption && !encryption) {
        throw new UserError(
          `storage location "${location.name}" requires encrypted backups`,
          'add --encrypt-to RECIPIENT (age public key) or --encrypt-passphrase-file FILE',
        );
      }
      const progress = Progress.for(io.stderr, a.progress === false);
      try {
        const manifest = await runBackup(
          { client, snapshots, toolVersion: VERSION },
          {
            ...(a.name ? { name: a.name } : {}),
            selection,
            ...(ttlMs ? { ttlMs } : {}),
            ...(encryption ? { encryption } : {}),
            labels,
            onProgress: backupProgress(progress),
          },
        );
        progress.done();
        io.stdout.write(
          format === 'table' ? backupSummary(manifest) : await formatData(manifest, format),
        );
        const secrets = manifest.resources.find((r) => r.resource === 'secrets')?.count ?? 0;
        if (!encryption && location.kind === 's3' && secrets > 0) {
          io.stderr.write(
            `warning: ${secrets} Secret(s) stored unencrypted in ${location.url}; use --encrypt-to to encrypt backups\n`,
          );
        }
      } finally {
        progress.done();
      }
    },
  };
}
