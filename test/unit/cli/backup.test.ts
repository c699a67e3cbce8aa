// argv → the options `backup` runs with, and the errors a user sees for bad flags.
import { describe, expect, it } from 'vitest';
import type { BackupCommandOptions } from '../../../src/cli/commands/backup.js';
import { selection } from '../builders.js';
import { optionsOf, refusal } from './harness.js';

const RECIPIENT = `age1${'q'.repeat(58)}`;
const backup = (...argv: string[]) =>
  optionsOf<BackupCommandOptions>(['backup', ...argv], 'backup');

describe('backup options', () => {
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
  ])('refuses %j before touching cluster or storage: %s', async (argv, message) => {
    expect(await refusal(argv)).toContain(`error: ${message}`);
  });
});
