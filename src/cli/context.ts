// What every command shares: global flags, and lazily created clients so that `--help`
// and `version` never load the Kubernetes or S3 libraries.
import type { CommandModule } from 'yargs';
import type { KubeClient } from '../kube/client.js';
import type { ObjectStore } from '../storage/store.js';

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

export async function openStorage(args: GlobalArgs, env: NodeJS.ProcessEnv): Promise<ObjectStore> {
  const { openStore, resolveLocation } = await import('../storage/locations.js');
  return openStore(await resolveLocation(args.storage, env), env);
}
