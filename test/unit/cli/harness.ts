// Runs the real CLI parser with each command's run replaced (runF), so tests check what argv
// turns into — the options a command would run with, or the error a user sees — without a
// cluster or storage.
import { PassThrough } from 'node:stream';
import { expect } from 'vitest';
import { main } from '../../../src/cli/index.js';

export interface Parsed {
  code: number;
  /** The command that would have run (e.g. `schedule create`) and its options. */
  command?: string;
  options?: unknown;
  stdout: string;
  stderr: string;
}

export async function parse(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Parsed> {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  (stderr as unknown as PassThrough).on('data', (c: Buffer) => err.push(c));
  let command: string | undefined;
  let options: unknown;
  const code = await main(
    argv,
    { stdout, stderr, env },
    {
      runF: async (c, o) => {
        command = c;
        options = o;
      },
    },
  );
  return {
    code,
    ...(command !== undefined ? { command, options } : {}),
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

/** The options `argv` runs `command` with; fails the test when it would not run. */
export async function optionsOf<O>(argv: string[], command: string, env?: NodeJS.ProcessEnv) {
  const p = await parse(argv, env);
  expect(p.stderr).toBe('');
  expect(p.code).toBe(0);
  expect(p.command).toBe(command);
  return p.options as O;
}

/** What the user sees when `argv` is refused before anything runs. */
export async function refusal(argv: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const p = await parse(argv, env);
  expect(p.command, `${argv.join(' ')} should not run`).toBeUndefined();
  expect(p.code).toBe(1);
  return p.stderr;
}
