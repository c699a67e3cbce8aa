// What every command shares: global flags, and lazily created clients so that `--help`
// and `version` never load the Kubernetes or S3 libraries.
import type { Argv, CommandModule } from 'yargs';
import type { DecryptionKey } from '../crypto/age.js';
import type { KubeClient } from '../kube/client.js';
import type { SnapshotRepository } from '../snapshots/repository.js';
import type { ResolvedLocation } from '../storage/locations.js';

export interface GlobalArgs {
  kubeconfig?: string;
  context?: string;
  namespace?: string[];
  output?: string;
  storage?: string;
  verbose?: number;
  progress?: boolean;
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/** Exit code a handler asks for (2 = partial failure); errors map to 1 in index.ts. */
export interface RunState {
  exitCode: number;
  /** The error a handler ended with; reported by index.ts. */
  error?: unknown;
}

/** Wraps a command so its errors reach index.ts (see guard there). */
export type Guard = <A, B>(cmd: CommandModule<A, B>) => CommandModule<A, B>;

export async function connectKube(args: GlobalArgs, concurrency?: number): Promise<KubeClient> {
  const { KubeClient } = await import('../kube/client.js');
  return KubeClient.connect({ kubeconfig: args.kubeconfig, context: args.context }, concurrency);
}

/** The snapshots of the location `--storage` names. */
export async function openSnapshots(
  args: GlobalArgs,
  env: NodeJS.ProcessEnv,
): Promise<SnapshotRepository> {
  return (await openLocation(args, env)).snapshots;
}

/** The snapshots and where they are (kind, whether the location requires encryption). */
export async function openLocation(
  args: GlobalArgs,
  env: NodeJS.ProcessEnv,
): Promise<{ snapshots: SnapshotRepository; location: ResolvedLocation }> {
  const { openStore, resolveLocation } = await import('../storage/locations.js');
  const { SnapshotRepository } = await import('../snapshots/repository.js');
  const location = await resolveLocation(args.storage, env);
  return { snapshots: new SnapshotRepository(await openStore(location, env)), location };
}

export interface KeyArgs {
  'identity-file'?: string;
  'passphrase-file'?: string;
}

/** Decryption keys from --identity-file (or KUBECTL_SNAPSHOT_IDENTITY_FILE) and --passphrase-file. */
export async function decryptionKeyFrom(
  a: KeyArgs,
  env: NodeJS.ProcessEnv,
): Promise<DecryptionKey> {
  const { readIdentityFile, readPassphraseFile } = await import('../crypto/age.js');
  const identityFile = a['identity-file'] ?? env.KUBECTL_SNAPSHOT_IDENTITY_FILE;
  return {
    identities: identityFile ? readIdentityFile(identityFile) : [],
    passphrases: a['passphrase-file'] ? [readPassphraseFile(a['passphrase-file'])] : [],
  };
}

export function keyOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('identity-file', {
      type: 'string',
      describe:
        'age identity file to decrypt an encrypted snapshot [env KUBECTL_SNAPSHOT_IDENTITY_FILE]',
    })
    .option('passphrase-file', {
      type: 'string',
      describe: 'File holding the passphrase of a passphrase-encrypted snapshot',
    });
}
