// argv → the options of list, describe, delete, verify, prune, location and version.
import { describe, expect, it } from 'vitest';
import { optionsOf, parse, refusal } from './harness.js';

describe('list, describe, delete and verify options', () => {
  it('list reads the storage flag and output format', async () => {
    expect(await optionsOf(['list'], 'list')).toEqual({ output: 'table', all: false });
    expect(await optionsOf(['ls', '--storage', 'team-a', '-o', 'yaml', '--all'], 'list')).toEqual({
      storage: 'team-a',
      output: 'yaml',
      all: true,
    });
  });

  it('describe names one snapshot', async () => {
    expect(await optionsOf(['describe', 'web-1', '-o', 'json'], 'describe')).toEqual({
      output: 'json',
      name: 'web-1',
    });
  });

  it('delete takes several names', async () => {
    expect(await optionsOf(['delete', 'a', 'b', '--storage', 's'], 'delete')).toEqual({
      storage: 's',
      names: ['a', 'b'],
    });
  });

  it('verify takes the identity file from the flag, else from KUBECTL_SNAPSHOT_IDENTITY_FILE', async () => {
    expect(await optionsOf(['verify', 'a', '--identity-file', 'k.txt'], 'verify')).toEqual({
      output: 'table',
      name: 'a',
      keys: { identityFile: 'k.txt' },
    });
    const env = { KUBECTL_SNAPSHOT_IDENTITY_FILE: 'env.txt' };
    expect(
      await optionsOf(['verify', 'a', '--passphrase-file', 'p.txt'], 'verify', env),
    ).toMatchObject({ keys: { identityFile: 'env.txt', passphraseFile: 'p.txt' } });
  });

  it.each([
    [['describe', 'Bad_Name'], 'invalid snapshot name "Bad_Name"'],
    [['delete', 'ok', '../etc'], 'invalid snapshot name "../etc"'],
    [['verify', 'a', '-o', 'xml'], 'unsupported output format "xml"'],
    [['list', '-o', 'wide'], 'unsupported output format "wide"'],
  ])('refuses %j: %s', async (argv, message) => {
    expect(await refusal(argv)).toContain(`error: ${message}`);
  });

  it('a missing snapshot name is a usage error', async () => {
    const p = await parse(['describe']);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain('Not enough non-option arguments');
    expect(p.stderr).toContain("Run 'kubectl snapshot --help' for usage.");
  });
});

describe('prune options', () => {
  it('parses the policy once, in the given or the local time zone', async () => {
    expect(
      await optionsOf(
        ['prune', '--keep-daily', '7', '--keep-last', '2', '--time-zone', 'Europe/Berlin'],
        'prune',
      ),
    ).toEqual({
      output: 'table',
      policy: { keep: { last: 2, daily: 7 }, expired: false, timeZone: 'Europe/Berlin' },
      filter: {},
      dryRun: false,
    });
    const o = await optionsOf<{ policy: { timeZone: string } }>(
      ['prune', '--expired', '--schedule', 'nightly', '-l', 'team=a', '--dry-run'],
      'prune',
      {},
    );
    expect(o).toMatchObject({
      policy: { keep: {}, expired: true },
      filter: { schedule: 'nightly', selector: 'team=a' },
      dryRun: true,
    });
    expect(o.policy.timeZone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  });

  it.each([
    [['prune'], 'no retention policy given, so nothing would be removed'],
    [['prune', '--keep-last', '1.5'], '--keep-last must be a whole number of snapshots, not "1.5"'],
    [['prune', '--keep-daily', '2', '--time-zone', 'Mars/Olympus'], 'unknown time zone'],
    [['prune', '--expired', '-l', 'a in (b'], 'invalid label selector'],
  ])('refuses %j: %s', async (argv, message) => {
    expect(await refusal(argv)).toContain(`error: ${message}`);
  });
});

describe('location and version options', () => {
  it('location add checks the name and URL before writing the config', async () => {
    expect(
      await optionsOf(
        [
          'location',
          'add',
          'vault',
          's3://backups/p?region=eu-west-1',
          '--default',
          '--require-encryption',
        ],
        'location add',
      ),
    ).toEqual({
      name: 'vault',
      url: 's3://backups/p?region=eu-west-1',
      default: true,
      overwrite: false,
      requireEncryption: true,
    });
    expect(await refusal(['location', 'add', 'Vault', 'file:///x'])).toContain(
      'error: invalid location name "Vault"',
    );
    expect(await refusal(['location', 'add', 'v', 's3://key:hunter2pw@backups/p'])).not.toContain(
      'hunter2pw',
    );
  });

  it('location list and remove', async () => {
    expect(await optionsOf(['location', 'list', '-o', 'json'], 'location list')).toEqual({
      output: 'json',
    });
    expect(await optionsOf(['location', 'rm', 'vault'], 'location remove')).toEqual({
      name: 'vault',
    });
  });

  it('version prints JSON only with -o json', async () => {
    expect(await optionsOf(['version'], 'version')).toEqual({ json: false });
    expect(await optionsOf(['version', '-o', 'json'], 'version')).toEqual({ json: true });
  });
});
