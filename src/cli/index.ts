// yargs wiring and the only place that turns errors into exit codes (see EXIT).
import yargs from 'yargs';
import {
  CommandFailed,
  EXIT,
  errorMessage,
  Interrupted,
  STOP_SIGNALS,
  UserError,
} from '../core/errors.js';
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
import type { GlobalArgs, Io } from './context.js';
import { globalFlags } from './flags.js';
import { sanitize } from './output.js';

class UsageError extends Error {}

/** Hooks for tests: `runF` receives each command's options instead of running it. */
export interface MainHooks {
  runF?: RunF;
}

/** Settings of every connection to a server, from the global flags (set once they are parsed). */
interface Transport {
  /** --request-timeout in ms; undefined: the default (core/http-timeouts.ts). */
  requestTimeoutMs?: number;
}

/** The real dependencies; clients are created lazily so that --help and version load neither. */
function realDeps(io: Io, stop: Stop, transport: Transport): Deps {
  return {
    io,
    stopSignal: () => {
      stop.observed = true;
      return stop.signal;
    },
    kube: async (target, concurrency) => {
      const { KubeClient } = await import('../kube/client.js');
      return KubeClient.connect({ ...target, ...transport }, concurrency);
    },
    storage: async (storage) => {
      const { openStore, resolveLocation } = await import('../storage/locations.js');
      const location = await resolveLocation(storage, io.env);
      const store = await openStore(location, io.env, transport.requestTimeoutMs);
      if (location.layout === 'velero') {
        const { VeleroRepository } = await import('../snapshots/velero/repository.js');
        return { snapshots: new VeleroRepository(store), location };
      }
      const { SnapshotRepository } = await import('../snapshots/repository.js');
      return { snapshots: new SnapshotRepository(store), location };
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
  const stop = stopOnSignals(io);
  const transport: Transport = {};
  const w: Wiring = {
    deps: realDeps(io, stop, transport),
    fail: (err) => {
      failure ??= { err };
    },
    ...(hooks.runF ? { runF: hooks.runF } : {}),
  };
  const parser = globalFlags(yargs(argv))
    // Global flags that apply to every server the command talks to reach the deps, not each
    // command's options: no command can forget them.
    .middleware((a: GlobalArgs) => {
      transport.requestTimeoutMs = a['request-timeout'];
    })
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
      // The parser's own errors (YError: a `requiresArg` flag with no value, a coerce that
      // throws) are usage errors too; a missing value is worded as the options' errors are.
      if (err && err.name !== 'YError') w.fail(err);
      else
        throw new UsageError(
          (err?.message ?? msg).replace(
            /^Not enough arguments following: (\S+)$/,
            '--$1 needs a value',
          ),
        );
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
  } finally {
    stop.release();
  }
}

interface Stop {
  signal: AbortSignal;
  /** Set once the command asked for the signal: it cleans up, so the process waits for it. */
  observed: boolean;
  release(): void;
}

/**
 * SIGINT and SIGTERM abort the run's signal: a backup stops, aborts its upload and removes
 * what it wrote (lock included), a restore creates nothing more. A second signal ends the
 * process at once, as a user pressing Ctrl-C twice expects.
 */
function stopOnSignals(io: Io): Stop {
  const controller = new AbortController();
  const handlers = STOP_SIGNALS.map((sig) => {
    const handler = () => {
      if (controller.signal.aborted || !stop.observed) process.exit(new Interrupted(sig).exitCode);
      // On a terminal the progress line is still open.
      const eol = io.stderr.isTTY ? '\n' : '';
      io.stderr.write(`${eol}${sig}: stopping, cleaning up (again to quit at once)\n`);
      controller.abort(new Interrupted(sig));
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  const stop: Stop = {
    signal: controller.signal,
    observed: false,
    release: () => {
      for (const [sig, handler] of handlers) process.off(sig, handler);
    },
  };
  return stop;
}

function report(err: unknown, io: Io, verbose: boolean): number {
  // Messages can quote stored strings (a damaged snapshot.json's fields): no escapes reach the terminal.
  const write = (text: string) => io.stderr.write(sanitize(text, true));
  if (err instanceof UsageError) {
    write(`error: ${err.message}\nRun 'kubectl snapshot --help' for usage.\n`);
    return EXIT.error;
  }
  if (err instanceof Interrupted) {
    write(`error: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
    return err.exitCode;
  }
  if (err instanceof CommandFailed) {
    write(`error: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof UserError) {
    write(`error: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
    if (verbose && err.stack) write(`${err.stack}\n`);
  } else {
    write(`error: ${errorMessage(err)}\n`);
    if (verbose && err instanceof Error && err.stack) write(`${err.stack}\n`);
    else write('  run again with -v for details\n');
  }
  return EXIT.error;
}
