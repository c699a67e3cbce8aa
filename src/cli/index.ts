// yargs wiring and the only place that turns errors into exit codes:
// 0 success, 1 usage or fatal error, 2 partial failure (set by a command through RunState).
import yargs, { type CommandModule } from 'yargs';
import { errorMessage, UserError } from '../core/errors.js';
import { VERSION } from '../version.js';
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
import type { GlobalArgs, Io, RunState } from './context.js';

class UsageError extends Error {}

/** A single-valued flag given twice keeps its last value, as kubectl does. */
const lastValue = (v: unknown) => (Array.isArray(v) ? v[v.length - 1] : v);

/**
 * yargs leaves parseAsync pending forever when an async handler rejects while a fail
 * handler is set, so handlers never throw into yargs: the error is kept and reported below.
 */
function guard(state: RunState) {
  return <A, B>(cmd: CommandModule<A, B>): CommandModule<A, B> => ({
    ...cmd,
    handler: async (args) => {
      try {
        await cmd.handler(args);
      } catch (err) {
        state.error = err;
      }
    },
  });
}

export async function main(argv: string[], io: Io): Promise<number> {
  // `kubectl snapshot list | head -1`: a reader that goes away must not crash the command
  // (which may be mid-backup) with a stack trace; the work finishes, the rest of the output
  // has nowhere to go.
  io.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const state: RunState = { exitCode: 0 };
  const g = guard(state);
  const parser = yargs(argv)
    .scriptName('kubectl snapshot')
    // `-n a -n b NAME`: each -n takes one value, so a positional after it stays positional.
    .parserConfiguration({ 'greedy-arrays': false })
    .usage(
      '$0 <command> [flags]\n\nBack up Kubernetes namespaces and restore them without touching what already exists.',
    )
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
    })
    .command(g(backupCommand(io)))
    .command(g(restoreCommand(io, state)))
    .command(g(diffCommand(io)))
    .command(g(listCommand(io)))
    .command(g(describeCommand(io)))
    .command(g(deleteCommand(io)))
    .command(g(verifyCommand(io, state)))
    .command(locationCommand(io, g))
    .command(scheduleCommand(io, g, state))
    .command(g(pruneCommand(io, state)))
    .command({
      command: 'version',
      describe: 'Print the version',
      handler: (raw) => {
        const a = raw as unknown as GlobalArgs;
        if (a.output === 'json')
          io.stdout.write(
            `${JSON.stringify({ version: `v${VERSION}`, node: process.version, platform: `${process.platform}/${process.arch}` })}\n`,
          );
        else
          io.stdout.write(
            `kubectl-snapshot v${VERSION} (node ${process.version}, ${process.platform}/${process.arch})\n`,
          );
      },
    })
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
      // handler runs, so they throw; handler errors arrive here already recorded by guard().
      if (err) state.error = err;
      else throw new UsageError(msg);
    });
  try {
    await parser.parseAsync();
    if (state.error) throw state.error;
    return state.exitCode;
  } catch (err) {
    const verbose = argv.some((a) => /^(-v+|--verbose)$/.test(a));
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\nRun 'kubectl snapshot --help' for usage.\n`);
    } else if (err instanceof UserError) {
      io.stderr.write(`error: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
      if (verbose && err.stack) io.stderr.write(`${err.stack}\n`);
    } else {
      io.stderr.write(`error: ${errorMessage(err)}\n`);
      if (verbose && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
      else io.stderr.write('  run again with -v for details\n');
    }
    return 1;
  }
}
