// Flags more than one command takes, each with the function that turns its values into part
// of a command's options (validated there, once).
import type { Argv } from 'yargs';
import { validateSelection } from '../backup/select.js';
import { parseDuration } from '../core/duration.js';
import { UserError } from '../core/errors.js';
import { splitList } from '../core/resources.js';
import { isLabelKey, isLabelValue } from '../core/selectors.js';
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
import { lastValue, parseRequestTimeout } from './request-timeout.js';

export { lastValue, parseRequestTimeout };

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
    .option('request-timeout', {
      coerce: parseRequestTimeout,
      type: 'string',
      requiresArg: true,
      describe:
        'Give up on a request to the API server or S3 after this long without a byte from it: 30s, 1m, 30 (seconds); 0: no limit [default: 60s]',
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
  // An empty value would silently mean "the default kubeconfig / current context": another
  // cluster than the one the user meant to name.
  const kubeconfig = keyFileFlag(a.kubeconfig, '--kubeconfig', '~/.kube/config');
  const context = keyFileFlag(a.context, '--context', 'kind-dev');
  return {
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(context !== undefined ? { context } : {}),
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

/**
 * The values of a repeatable, comma-separated flag. An occurrence with nothing in it (`-n ""`,
 * or the flag last with no value) is an error: read as "none given" it would silently widen
 * (all namespaces, every type) or drop (no labels, no mapping) what the user asked for.
 */
export function listFlag(
  values: readonly string[] | undefined,
  flag: string,
  example: string,
): string[] {
  if (values !== undefined && (values.length === 0 || values.some((v) => !splitList([v]).length)))
    throw needsValue(flag, example);
  return splitList(values);
}

/** A flag given with no value, e.g. `--encrypt-passphrase-file ""`. */
export function needsValue(flag: string, example: string): UserError {
  return new UserError(`${flag} needs a value`, `e.g. ${flag} ${example}; or leave the flag out`);
}

/** --include-resources and --exclude-resources, as given (matched against types later). */
export function resourceListsFrom(a: FilterArgs): {
  includeResources: string[];
  excludeResources: string[];
} {
  return {
    includeResources: listFlag(
      a['include-resources'],
      '--include-resources',
      'deployments,configmaps',
    ),
    excludeResources: listFlag(a['exclude-resources'], '--exclude-resources', 'secrets'),
  };
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
    namespaces: listFlag(a.namespace, '--namespace', 'shop'),
    allNamespaces: a['all-namespaces'] === true,
    excludeNamespaces: listFlag(a['exclude-namespace'], '--exclude-namespace', 'kube-system'),
    ...(a.selector !== undefined ? { labelSelector: a.selector } : {}),
    ...resourceListsFrom(a),
    includeClusterResources: clusterModeFrom(a),
  };
  validateSelection(selection);
  return selection;
}

export function parseLabels(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of listFlag(values, '--labels', 'team=payments')) {
    const i = kv.indexOf('=');
    if (i <= 0)
      throw new UserError(`invalid label "${kv}"`, 'use KEY=VALUE, e.g. --labels team=payments');
    const key = kv.slice(0, i);
    const value = kv.slice(i + 1);
    if (!isLabelKey(key))
      throw new UserError(
        `invalid label "${kv}": "${key}" is not a valid label key`,
        LABEL_KEY_HINT,
      );
    if (!isLabelValue(value))
      throw new UserError(
        `invalid label "${kv}": "${value}" is not a valid label value`,
        LABEL_VALUE_HINT,
      );
    out[key] = value;
  }
  return out;
}

/**
 * --ttl in milliseconds (undefined without the flag). Its option needs `requiresArg`: else
 * yargs reads `--ttl -5h` as the flags -5 and -h, and prints help with exit code 0.
 */
export function ttlFrom(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === '') throw needsValue('--ttl', '720h');
  return parseDuration(text);
}

const LABEL_KEY_HINT =
  'a key is [PREFIX/]NAME: NAME at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit; PREFIX a DNS subdomain (e.g. example.com)';
const LABEL_VALUE_HINT =
  'a value is empty or at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit';

// ---- encryption -----------------------------------------------------------------------------

/** How a backup is to be encrypted; the passphrase is read from its file when the backup runs. */
export type EncryptionSpec = { recipients: string[] } | { passphraseFile: string };

export interface EncryptArgs {
  'encrypt-to'?: string[];
  'encrypt-passphrase-file'?: string;
}

/** --encrypt-to / --encrypt-passphrase-file → how to encrypt, recipients validated. */
export function encryptionFrom(a: EncryptArgs): EncryptionSpec | undefined {
  const recipients = listFlag(a['encrypt-to'], '--encrypt-to', 'age1…');
  const file = a['encrypt-passphrase-file'];
  if (file !== undefined && file.trim() === '')
    throw needsValue('--encrypt-passphrase-file', 'passphrase.txt');
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
  /** The Ed25519 public key (PEM) the snapshot must be signed by. */
  verifyKeyFile?: string;
}

export interface KeyArgs {
  'identity-file'?: string;
  'passphrase-file'?: string;
  'verify-key'?: string;
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
    })
    .option('verify-key', {
      type: 'string',
      coerce: lastValue,
      describe:
        'Ed25519 public key (PEM): refuse the snapshot unless its snapshot.json is signed by it',
    }) as Argv<T & KeyArgs>;
}

export function keyFilesFrom(a: KeyArgs, env: NodeJS.ProcessEnv): KeyFiles {
  // Given but empty is refused (it would silently mean "no key"); the variable may be empty.
  const identityFile =
    keyFileFlag(
      lastValue(a['identity-file']) as string | undefined,
      '--identity-file',
      'key.txt',
    ) ??
    (env.KUBECTL_SNAPSHOT_IDENTITY_FILE || undefined);
  const passphraseFile = keyFileFlag(
    lastValue(a['passphrase-file']) as string | undefined,
    '--passphrase-file',
    'passphrase.txt',
  );
  const verifyKeyFile = keyFileFlag(a['verify-key'], '--verify-key', 'sign.pub.pem');
  return {
    ...(identityFile ? { identityFile } : {}),
    ...(passphraseFile ? { passphraseFile } : {}),
    ...(verifyKeyFile !== undefined ? { verifyKeyFile } : {}),
  };
}

// ---- signing ----------------------------------------------------------------------------------

export interface SignArgs {
  'sign-key'?: string;
}

/** --sign-key FILE: an Ed25519 private key (PEM) that signs snapshot.json; read when it runs. */
export function signOptions<T>(y: Argv<T>, describe: string): Argv<T & SignArgs> {
  return y.option('sign-key', {
    type: 'string',
    coerce: lastValue,
    describe,
  }) as Argv<T & SignArgs>;
}

/** A key file flag's path; given empty (`--sign-key ""`) it is an error, not "unsigned". */
export function keyFileFlag(
  value: string | undefined,
  flag: string,
  example: string,
): string | undefined {
  if (value === undefined) return undefined;
  if (String(value).trim() === '') throw needsValue(flag, example);
  return String(value);
}

/** --sign-key, validated. */
export function signKeyFileFrom(a: SignArgs): string | undefined {
  return keyFileFlag(a['sign-key'], '--sign-key', 'sign.pem');
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
