// Every command is an adapter in the shape of kubectl's Complete/Validate/Run and the gh CLI's
// options + runF: yargs turns argv into args, `options` turns those into one typed options
// object, validated once, and `run(deps, options)` does the work with injected dependencies.
// Tests replace `run` through `runF` to check argv → options without a cluster.
import type { Argv, CommandModule } from 'yargs';
import type { KubeClient } from '../kube/client.js';
import type { SnapshotRepository } from '../snapshots/repository.js';
import type { ResolvedLocation } from '../storage/locations.js';
import type { GlobalArgs, Io } from './context.js';

/** What commands act through; index.ts makes the real ones (lazily: --help loads neither). */
export interface Deps {
  io: Io;
  /**
   * For a command that writes: aborted, with an Interrupted reason, on SIGINT or SIGTERM, so it
   * stops and removes what it wrote. A command that never asks is ended by the signal at once.
   */
  stopSignal(): AbortSignal;
  kube(target: KubeTarget, concurrency?: number): Promise<KubeClient>;
  /** The snapshots of a storage location (`--storage`, else the environment or the default). */
  storage(
    storage: string | undefined,
  ): Promise<{ snapshots: SnapshotRepository; location: ResolvedLocation }>;
}

/** Which cluster: the kubeconfig and context flags. */
export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
}

export interface Command<A, O> {
  command: string;
  aliases?: string[];
  /** false hides the command from --help. */
  describe: string | false;
  builder?: (y: Argv<GlobalArgs>) => Argv<A>;
  /** argv → options: every check a user can fail that needs neither cluster nor storage. */
  options(args: A & GlobalArgs, env: NodeJS.ProcessEnv): O | Promise<O>;
  run(deps: Deps, options: O): Promise<void>;
}

/** Replaces a command's run: tests receive the options it would have run with. */
export type RunF = (command: string, options: unknown) => Promise<void>;

export interface Wiring {
  deps: Deps;
  /**
   * Keeps a handler's error for index.ts: yargs leaves parseAsync pending forever when an
   * async handler rejects while a fail handler is set, so handlers never throw into yargs.
   */
  fail(err: unknown): void;
  runF?: RunF;
}

/** The yargs module of a command. `path` names it for runF, e.g. `schedule create`. */
export function adapt<A, O>(
  cmd: Command<A, O>,
  w: Wiring,
  path = cmd.command.split(' ')[0] as string,
): CommandModule<GlobalArgs, A> {
  return {
    command: cmd.command,
    ...(cmd.aliases ? { aliases: cmd.aliases } : {}),
    describe: cmd.describe,
    ...(cmd.builder ? { builder: cmd.builder } : {}),
    handler: async (args) => {
      try {
        const options = await cmd.options(args as unknown as A & GlobalArgs, w.deps.io.env);
        await (w.runF ? w.runF(path, options) : cmd.run(w.deps, options));
      } catch (err) {
        w.fail(err);
      }
    },
  };
}
