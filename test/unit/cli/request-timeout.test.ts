// --request-timeout: the values kubectl users write, read once for every command; a bad one
// stops the command before it talks to any server.
import { describe, expect, it } from 'vitest';
import { parseRequestTimeout } from '../../../src/cli/flags.js';
import { userError } from '../user-error.js';
import { optionsOf, parse, refusal } from './harness.js';

const ADVICE = 'use a duration such as 30s or 1m30s, plain seconds (30), or 0 for no limit';

describe('--request-timeout', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['30', 30_000],
    ['1.5', 1500],
    ['30s', 30_000],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['2h', 7_200_000],
    [' 10s ', 10_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseRequestTimeout(text)).toBe(ms);
  });

  it('keeps the last of repeated values, as kubectl does', () => {
    expect(parseRequestTimeout(['5s', '10s'])).toBe(10_000);
  });

  it.each(['abc', '10x', '1h-', '-5s', '5 s', 's', ''])('refuses %j, naming the flag', (text) => {
    expect(userError(() => parseRequestTimeout(text)).message).toBe(
      `invalid --request-timeout "${text.trim()}": ${ADVICE}`,
    );
  });

  it('refuses a limit longer than a timer can wait', () => {
    expect(userError(() => parseRequestTimeout('600h')).message).toBe(
      '--request-timeout "600h" is too long: at most 24 days, or 0 for no limit',
    );
    expect(parseRequestTimeout('596h')).toBe(596 * 3_600_000);
  });

  it('is a global flag: any command takes it, before or after the command name', async () => {
    // It reaches the clients through the deps (cli/index.ts), not each command's options.
    expect(await optionsOf(['list', '--request-timeout', '30s'], 'list')).toMatchObject({
      output: 'table',
    });
    expect(await optionsOf(['--request-timeout=0', 'describe', 'web-1'], 'describe')).toMatchObject(
      { name: 'web-1' },
    );
    const backup = await optionsOf<{ kube: unknown }>(
      ['backup', 'b', '-n', 'shop', '--request-timeout', '1m'],
      'backup',
    );
    expect(backup.kube).toEqual({});
  });

  it.each([
    [['list', '--request-timeout', 'soon'], `invalid --request-timeout "soon": ${ADVICE}`],
    [
      ['backup', 'b', '-n', 'shop', '--request-timeout=1y'],
      `invalid --request-timeout "1y": ${ADVICE}`,
    ],
    [
      ['list', '--request-timeout', '9999h'],
      '--request-timeout "9999h" is too long: at most 24 days, or 0 for no limit',
    ],
  ])('a bad value is a usage error: %j exits 1 with one clear line', async (argv, message) => {
    expect(await refusal(argv)).toBe(
      `error: ${message}\nRun 'kubectl snapshot --help' for usage.\n`,
    );
  });

  it('a missing value is a usage error', async () => {
    const p = await parse(['list', '--request-timeout']);
    expect(p.code).toBe(1);
    expect(p.command).toBeUndefined();
    expect(p.stderr).toMatch(/^error: .*request-timeout/);
  });
});
