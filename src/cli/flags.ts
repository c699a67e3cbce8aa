// Flags more than one command takes, each with the function that turns its values into part
// of a command's options (validated there, once).
import type { Argv } from 'yargs';
import { validateSelection } from '../backup/select.js';
import { UserError } from '../core/errors.js';
import { splitList } from '../core/resources.js';
import type { ClusterResourcesMode, Selection } from '../core/types.js';
import { validateRecipient } from '../crypto/age.js';
import {
  KEEP_RULES,
  type KeepRule,
  type RetentionPolicy,
  validatePolicy,
} from '../snapshots/retention.js';
import type { KubeTarget } from './command.js';
import type { GlobalArgs } from './context.js';
import { type OutputFormat, parseOutput } from './output.js';

/** A single-valued flag given twice keeps its last value, as kubectl does. */
const lastValue = (v: unknown) => (Array.isArray(v) ? v[v.length - 1] : v);

export function globalFlags<T>(y: Argv<T>): Argv<T & GlobalArgs> {
  return y
    .option('kubeconfig', {
      coerce: lastValue,
      type: 'string',
      describe: 'Path to the kubeconfig file',
      global: true,
    })
    .option('context', {
      coerce: lastValue,
      type: 'string',
      describe: 'Kubeconfig context to use',
      global: true,
    })
    .option('namespace', {
      alias: 'n',
      type: 'string',
      array: true,
      describe: 'Namespace (repeatable)',
      global: true,
    })
    .option('output', {
      coerce: lastValue,
      alias: 'o',
      type: 'string',
      describe: 'Output format: table, json or yaml',
      global: true,
    })
    .option('storage', {
      coerce: lastValue,
      type: 'string',
      describe:
        'Storage location: a name from `location list`, file:///dir or s3://bucket/prefix [env KUBECTL_SNAPSHOT_STORAGE]',
      global: true,
    })
    .option('verbose', {
      alias: 'v',
      type: 'count',
      describe: 'More detail on errors',
      global: true,
    })
    .option('progress', {
      type: 'boolean',
      default: true,
      describe: 'Progress on stderr when it is a terminal (--no-progress to hide)',
      global: true,
    }) as Argv<T & GlobalArgs>;
}

/** What every command that reads or writes snapshots starts from. */
export interface CommonOptions {
  kube: KubeTarget;
  storage?: string;
  output: OutputFormat;
  /** Show a progress line (on a terminal). */
  progress: boolean;
}

/** Which cluster: --kubeconfig and --context. */
export function kubeFrom(a: GlobalArgs): KubeTarget {
  return {
    ...(a.kubeconfig !== undefined ? { kubeconfig: a.kubeconfig } : {}),
    ...(a.context !== undefined ? { context: a.context } : {}),
  };
}

export function commonFrom(a: GlobalArgs, defaultOutput: OutputFormat = 'table'): CommonOptions {
  return {
    kube: kubeFrom(a),
    ...(a.storage !== undefined ? { storage: a.storage } : {}),
    output: parseOutput(a.output ?? defaultOutput),
    progress: a.progress !== false,
  };
}

// ---- picking objects: labels, resource types, cluster scope (backup and restore) ----------

export interface FilterArgs {
  selector?: string;
  'include-resources'?: string[];
  'exclude-resources'?: string[];
  'include-cluster-resources'?: string;
}

export function filterOptions<T>(y: Argv<T>, clusterHelp: string): Argv<T & FilterArgs> {
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
    }) as Argv<T & FilterArgs>;
}

export function clusterModeFrom(a: FilterArgs): ClusterResourcesMode {
  const mode = a['include-cluster-resources'] ?? 'auto';
  if (!['auto', 'true', 'false'].includes(mode)) {
    throw new UserError(`--include-cluster-resources must be auto, true or false, not "${mode}"`);
  }
  return mode as ClusterResourcesMode;
}

// ---- what a backup selects (backup, schedule create, schedule exec) ------------------------

export interface SelectionArgs extends FilterArgs {
  namespace?: string[];
  'all-namespaces'?: boolean;
  'exclude-namespace'?: string[];
}

export function selectionOptions<T>(y: Argv<T>): Argv<T & SelectionArgs> {
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
  ) as Argv<T & SelectionArgs>;
}

/** The backup's selection, validated. */
export function selectionFrom(a: SelectionArgs): Selection {
  const selection: Selection = {
    namespaces: splitList(a.namespace),
    allNamespaces: a['all-namespaces'] === true,
    excludeNamespaces: splitList(a['exclude-namespace']),
    ...(a.selector !== undefined ? { labelSelector: a.selector } : {}),
    includeResources: splitList(a['include-resources']),
    excludeResources: splitList(a['exclude-resources']),
    includeClusterResources: clusterModeFrom(a),
  };
  validateSelection(selection);
  return selection;
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

// ---- encryption -----------------------------------------------------------------------------

/** How a backup is to be encrypted; the passphrase is read from its file when the backup runs. */
export type EncryptionSpec = { recipients: string[] } | { passphraseFile: string };

export interface EncryptArgs {
  'encrypt-to'?: string[];
  'encrypt-passphrase-file'?: string;
}

/** --encrypt-to / --encrypt-passphrase-file → how to encrypt, recipients validated. */
export function encryptionFrom(a: EncryptArgs): EncryptionSpec | undefined {
  const recipients = splitList(a['encrypt-to']);
  const file = a['encrypt-passphrase-file'];
  if (recipients.length > 0 && file) {
    throw new UserError(
      '--encrypt-to and --encrypt-passphrase-file cannot be combined',
      'age encrypts to recipients or with a passphrase, not both',
    );
  }
  if (file) return { passphraseFile: file };
  return recipients.length > 0 ? { recipients: recipients.map(validateRecipient) } : undefined;
}

/** Where the keys that decrypt a snapshot are; the files are read when the command runs. */
export interface KeyFiles {
  identityFile?: string;
  passphraseFile?: string;
}

export interface KeyArgs {
  'identity-file'?: string;
  'passphrase-file'?: string;
}

export function keyOptions<T>(y: Argv<T>): Argv<T & KeyArgs> {
  return y
    .option('identity-file', {
      type: 'string',
      describe:
        'age identity file to decrypt an encrypted snapshot [env KUBECTL_SNAPSHOT_IDENTITY_FILE]',
    })
    .option('passphrase-file', {
      type: 'string',
      describe: 'File holding the passphrase of a passphrase-encrypted snapshot',
    }) as Argv<T & KeyArgs>;
}

export function keyFilesFrom(a: KeyArgs, env: NodeJS.ProcessEnv): KeyFiles {
  const identityFile = a['identity-file'] ?? env.KUBECTL_SNAPSHOT_IDENTITY_FILE;
  return {
    ...(identityFile ? { identityFile } : {}),
    ...(a['passphrase-file'] ? { passphraseFile: a['passphrase-file'] } : {}),
  };
}

// ---- retention (prune, schedule create, schedule exec) --------------------------------------

export type RetentionArgs = { [R in KeepRule as `keep-${R}`]?: number } & {
  'time-zone'?: string;
};

const KEEP_HELP: Record<KeepRule, string> = {
  last: 'Keep the N newest snapshots',
  hourly: 'Keep the newest snapshot of each of the last N hours that have one',
  daily: 'Keep the newest snapshot of each of the last N days that have one',
  weekly: 'Keep the newest snapshot of each of the last N ISO weeks that have one',
  monthly: 'Keep the newest snapshot of each of the last N months that have one',
  yearly: 'Keep the newest snapshot of each of the last N years that have one',
};

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

export function keepFrom(a: RetentionArgs): Partial<Record<KeepRule, number>> {
  const keep: Partial<Record<KeepRule, number>> = {};
  for (const r of KEEP_RULES) {
    const v = a[`keep-${r}`];
    if (v !== undefined) keep[r] = v;
  }
  return keep;
}

/** The retention policy of the flags, validated; without --time-zone the local one. */
export function policyFrom(a: RetentionArgs, expired: boolean): RetentionPolicy {
  const policy: RetentionPolicy = {
    keep: keepFrom(a),
    expired,
    timeZone: a['time-zone'] ?? localTimeZone(),
  };
  validatePolicy(policy);
  return policy;
}
