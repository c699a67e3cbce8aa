// argv → the options `backup` runs with, and the errors a user sees for bad flags.
import { describe, expect, it } from 'vitest';
import type { BackupCommandOptions } from '../../../src/cli/commands/backup.js';
import { selection } from '../builders.js';
import { optionsOf, parse, refusal } from './harness.js';

const RECIPIENT = `age1${'q'.repeat(58)}`;
const backup = (...argv: string[]) =>
  optionsOf<BackupCommandOptions>(['backup', ...argv], 'backup');

describe('backup options', () => {
  it('carries --format velero; without it the location decides', async () => {
    expect(await backup('-n', 'shop', '--format', 'velero')).toMatchObject({ format: 'velero' });
    expect(await backup('-n', 'shop')).not.toHaveProperty('format');
    expect(await refusal(['backup', '-n', 'a', '--format', 'zip'])).toMatch(
      /Invalid values|Choices/,
    );
  });

  it('selects one namespace with defaults for everything else', async () => {
    expect(await backup('-n', 'shop')).toEqual({
      kube: {},
      output: 'table',
      progress: true,
      selection: selection(['shop']),
      labels: {},
    });
  });

  it('carries name, storage, cluster, ttl, labels and filters as parsed values', async () => {
    const o = await backup(
      'nightly',
      '-A',
      '--exclude-namespace',
      'kube-system,kube-public',
      '-l',
      'app=web',
      '--include-resources',
      'deployments,configmaps',
      '--include-cluster-resources',
      'false',
      '--ttl',
      '1h30m',
      '--labels',
      'team=a,tier=gold',
      '--storage',
      'file:///tmp/x',
      '--kubeconfig',
      'kc',
      '--context',
      'ctx',
      '-o',
      'json',
      '--no-progress',
    );
    expect(o).toEqual({
      kube: { kubeconfig: 'kc', context: 'ctx' },
      storage: 'file:///tmp/x',
      output: 'json',
      progress: false,
      name: 'nightly',
      selection: {
        namespaces: [],
        allNamespaces: true,
        excludeNamespaces: ['kube-system', 'kube-public'],
        labelSelector: 'app=web',
        includeResources: ['deployments', 'configmaps'],
        excludeResources: [],
        includeClusterResources: 'false',
      },
      ttlMs: 90 * 60_000,
      labels: { team: 'a', tier: 'gold' },
    });
  });

  it('encrypts to the given recipients, or names the passphrase file to read when it runs', async () => {
    expect((await backup('-n', 'a', '--encrypt-to', RECIPIENT)).encryption).toEqual({
      recipients: [RECIPIENT],
    });
    expect(
      (await backup('-n', 'a', '--encrypt-passphrase-file', 'does-not-exist-yet')).encryption,
    ).toEqual({ passphraseFile: 'does-not-exist-yet' });
  });

  it.each([
    [['backup'], 'no namespace selected'],
    [['backup', '-n', 'a', '-A'], '-n and -A cannot be combined'],
    [['backup', '-n', 'Bad_NS'], 'invalid namespace name "Bad_NS"'],
    [['backup', 'Bad_Name', '-n', 'a'], 'invalid snapshot name "Bad_Name"'],
    [['backup', '-n', 'a', '--ttl', '3 days'], 'invalid duration "3 days"'],
    [['backup', '-n', 'a', '--labels', 'team'], 'invalid label "team"'],
    [['backup', '-n', 'a', '-l', 'app in (web'], 'invalid label selector'],
    [
      ['backup', '-n', 'a', '--include-cluster-resources', 'maybe'],
      '--include-cluster-resources must be auto, true or false, not "maybe"',
    ],
    [['backup', '-n', 'a', '-o', 'xml'], 'unsupported output format "xml"'],
    [['backup', '-n', 'a', '--encrypt-to', 'age1short'], 'invalid age recipient "age1short"'],
    [
      ['backup', '-n', 'a', '--encrypt-to', RECIPIENT, '--encrypt-passphrase-file', 'p'],
      '--encrypt-to and --encrypt-passphrase-file cannot be combined',
    ],
    [
      ['backup', '-n', 'a', '--format', 'velero', '--encrypt-to', RECIPIENT],
      'a backup in Velero format cannot be encrypted: Velero could not read it',
    ],
    [
      ['backup', '-n', 'a', '--format', 'velero', '--encrypt-passphrase-file', 'p'],
      'a backup in Velero format cannot be encrypted: Velero could not read it',
    ],
    [
      ['backup', '-n', 'a', '--format', 'velero', '--sign-key', 'k.pem'],
      'a backup in Velero format cannot be signed',
    ],
  ])('refuses %j before touching cluster or storage: %s', async (argv, message) => {
    expect(await refusal(argv)).toContain(`error: ${message}`);
  });

  // Each of these used to run: a plaintext backup, no expiry, every type, or help with exit 0.
  it.each([
    [['--encrypt-to', ''], '--encrypt-to needs a value', 'e.g. --encrypt-to age1…'],
    [['--encrypt-to'], '--encrypt-to needs a value', 'e.g. --encrypt-to age1…'],
    [['--encrypt-to', RECIPIENT, '--encrypt-to', ' '], '--encrypt-to needs a value', ''],
    [
      ['--encrypt-passphrase-file', ''],
      '--encrypt-passphrase-file needs a value',
      'e.g. --encrypt-passphrase-file passphrase.txt',
    ],
    [['--encrypt-passphrase-file'], '--encrypt-passphrase-file needs a value', ''],
    [['--ttl', ''], '--ttl needs a value', 'e.g. --ttl 720h'],
    [['--include-resources'], '--include-resources needs a value', ''],
    [['--include-resources', ''], '--include-resources needs a value', ''],
    [
      ['--exclude-resources', ','],
      '--exclude-resources needs a value',
      'e.g. --exclude-resources secrets',
    ],
    [['--exclude-resources', '--ttl', '1h'], '--exclude-resources needs a value', ''],
    [['-n', ''], '--namespace needs a value', 'e.g. --namespace shop'],
    [['--exclude-namespace', ''], '--exclude-namespace needs a value', ''],
    [['--labels', ''], '--labels needs a value', 'e.g. --labels team=payments'],
    [['--labels'], '--labels needs a value', ''],
  ])('refuses a flag with no value: %j', async (flags, message, hint) => {
    const stderr = await refusal(['backup', '-n', 'a', ...flags]);
    expect(stderr.split('\n')[0]).toBe(`error: ${message}`);
    expect(stderr).toContain(`  ${hint}`);
    expect(stderr).toContain('or leave the flag out');
  });

  it.each([
    [['--ttl'], 'error: --ttl needs a value\n'],
    [['--ttl', '--labels', 'a=b'], 'error: --ttl needs a value\n'],
    // yargs read `-5h` as the flags -5 and -h and printed help with exit code 0.
    [['--ttl', '-5h'], 'error: invalid duration "-5h"\n'],
  ])('refuses --ttl without a duration: %j', async (flags, first) => {
    const p = await parse(['backup', '-n', 'a', ...flags]);
    expect(p.code).toBe(1);
    expect(p.command).toBeUndefined();
    expect(p.stdout).toBe('');
    expect(p.stderr.startsWith(first)).toBe(true);
  });

  it('keeps the last --ttl and --encrypt-passphrase-file of two, as kubectl does', async () => {
    const o = await backup(
      ...['-n', 'a', '--ttl', '1h', '--ttl', '2h'],
      ...['--encrypt-passphrase-file', 'a', '--encrypt-passphrase-file', 'b'],
    );
    expect(o.ttlMs).toBe(2 * 3_600_000);
    expect(o.encryption).toEqual({ passphraseFile: 'b' });
  });

  it.each([
    ['bad label=x', '"bad label" is not a valid label key'],
    ['team-=x', '"team-" is not a valid label key'],
    [`${'k'.repeat(64)}=x`, `"${'k'.repeat(64)}" is not a valid label key`],
    ['Example.com/team=x', '"Example.com/team" is not a valid label key'],
    ['team=a b', '"a b" is not a valid label value'],
    ['team=-x', '"-x" is not a valid label value'],
    [`team=${'v'.repeat(64)}`, `"${'v'.repeat(64)}" is not a valid label value`],
  ])('refuses --labels %j: not a Kubernetes label', async (label, why) => {
    const stderr = await refusal(['backup', '-n', 'a', '--labels', label]);
    expect(stderr.split('\n')[0]).toBe(`error: invalid label "${label}": ${why}`);
  });

  it('takes label keys with a DNS prefix, values up to 63 characters, and empty values', async () => {
    const value = 'v'.repeat(63);
    const o = await backup('-n', 'a', '--labels', `example.com/team=a.b_c-d,tier=${value},empty=`);
    expect(o.labels).toEqual({ 'example.com/team': 'a.b_c-d', tier: value, empty: '' });
  });
});
