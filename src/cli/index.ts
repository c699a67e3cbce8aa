// yargs wiring and the only place that turns errors into exit codes (see EXIT).
import yargs from 'yargs';
import { CommandFailed, EXIT, errorMessage, UserError } from '../core/errors.js';
import { adapt, type Deps, type RunF, type Wiring } from './command.js';
import { backupCommand } from './commands/backup.js';
import { locationCommand } from './commands/location.js';
import { pruneCommand } from './commands/prune.js';
import { diffCommand, restoreCommand } from './commands/restore.js';
import { scheduleCommand } from './commands/schedule.js';
import {
  deleteCommand,
  describeCommand,
  listCommand,
  verifyCommand,
} from './commands/snapshots.js';
import { versionCommand } from './commands/version.js';
import type { Io } from './context.js';
import { globalFlags } from './flags.js';

class UsageError extends Error {}

/** Hooks for tests: `runF` receives each command's options instead of running it. */
export interface MainHooks {
  runF?: RunF;
}

/** The real dependencies; clients are created lazily so that --help and version load neither. */
function realDeps(io: Io): Deps {
  return {
    io,
    kube: async (target, concurrency) => {
      const { KubeClient } = await import('../kube/client.js');
      return KubeClient.connect(target, concurrency);
    },
    storage: async (storage) => {
      const { openStore, resolveLocation } = await import('../storage/locations.js');
      const { SnapshotRepository } = await import('../snapshots/repository.js');
      const location = await resolveLocation(storage, io.env);
      return { snapshots: new SnapshotRepository(await openStore(location, io.env)), location };
    },
  };
}

export async function main(argv: string[], io: Io, hooks: MainHooks = {}): Promise<number> {
  // `kubectl snapshot list | head -1`: a reader that goes away must not crash the command
  // (which may be mid-backup) with a stack trace; the work finishes, the rest of the output
  // has nowhere to go.
  io.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  let failure: { err: unknown } | undefined;
  const w: Wiring = {
    deps: realDeps(io),
    fail: (err) => {
      failure ??= { err };
    },
    ...(hooks.runF ? { runF: hooks.runF } : {}),
  };
  const parser = globalFlags(yargs(argv))
    .scriptName('kubectl snapshot')
    // `-n a -n b NAME`: each -n takes one value, so a positional after it stays positional.
    .parserConfiguration({ 'greedy-arrays': false })
    .usage(
      '$0 <command> [flags]\n\nBack up Kubernetes namespaces and restore them without touching what already exists.',
    )
    .command(adapt(backupCommand, w))
    .command(adapt(restoreCommand, w))
    .command(adapt(diffCommand, w))
    .command(adapt(listCommand, w))
    .command(adapt(describeCommand, w))
    .command(adapt(deleteCommand, w))
    .command(adapt(verifyCommand, w))
    .command(locationCommand(w))
    .command(scheduleCommand(w))
    .command(adapt(pruneCommand, w))
    .command(adapt(versionCommand, w))
    .completion('completion', 'Print a bash/zsh completion script')
    .demandCommand(1, 'name a command; see --help')
    .recommendCommands()
    .strict()
    .version(false)
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // Validation failures (unknown flag, missing argument) must stop yargs before any
      // handler runs, so they throw; handler errors arrive here already recorded by adapt().
      if (err) w.fail(err);
      else throw new UsageError(msg);
    });
  try {
    await parser.parseAsync();
    if (failure) throw failure.err;
    return EXIT.ok;
  } catch (err) {
    return report(
      err,
      io,
      argv.some((a) => /^(-v+|--verbose)$/.test(a)),
    );
  }
}

function report(err: unknown, io: Io, verbose: boolean): number {
  if (err instanceof UsageError) {
    io.stderr.write(`error: ${err.message}\nRun 'kubectl snapshot --help' for usage.\n`);
    return EXIT.error;
  }
  if (err instanceof CommandFailed) {
    io.stderr.write(`error: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof UserError) {
    io.stderr.write(`error: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
    if (verbose && err.stack) io.stderr.write(`${err.stack}\n`);
  } else {
    io.stderr.write(`error: ${errorMessage(err)}\n`);
    if (verbose && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    else io.stderr.write('  run again with -v for details\n');
  }
  return EXIT.error;
}
