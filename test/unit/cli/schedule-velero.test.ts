// argv → the options of `schedule create --from-velero-schedule`: which flags are recorded as
// replacing the Velero Schedule's fields, which stay flags only, and the refusals before the
// Schedule is read.
import { describe, expect, it } from 'vitest';
import type { VeleroCreateOptions } from '../../../src/cli/commands/schedule/create.js';
import { parseCron } from '../../../src/schedule/cron.js';
import { DEFAULT_IMAGE } from '../../../src/schedule/render.js';
import { optionsOf, refusal } from './harness.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

const fromVelero = (...args: string[]) => [
  'schedule',
  'create',
  'nightly',
  '--from-velero-schedule',
  'velero/nightly',
  ...args,
];

describe('schedule create --from-velero-schedule options', () => {
  it('needs neither --schedule nor a namespace, and records no flag as given', async () => {
    expect(await optionsOf(fromVelero(), 'schedule create')).toEqual({
      kube: {},
      name: 'nightly',
      output: 'table',
      dryRun: false,
      image: DEFAULT_IMAGE,
      fromVelero: { namespace: 'velero', name: 'nightly' },
      given: {},
      encryptTo: [],
      policy: { keep: {}, expired: true, timeZone: 'UTC' },
    } satisfies VeleroCreateOptions);
  });

  it.each([
    ['--schedule', ['--schedule', '@hourly'], { schedule: parseCron('@hourly') }],
    ['--time-zone', ['--time-zone', 'Europe/Berlin'], { timeZone: 'Europe/Berlin' }],
    ['-n', ['-n', 'shop,cart'], { namespaces: ['shop', 'cart'] }],
    ['-A', ['-A'], { allNamespaces: true }],
    [
      '--exclude-namespace',
      ['--exclude-namespace', 'kube-system'],
      { excludeNamespaces: ['kube-system'] },
    ],
    ['-l', ['-l', 'app=web'], { labelSelector: 'app=web' }],
    ['--include-resources', ['--include-resources', 'pods'], { includeResources: ['pods'] }],
    ['--exclude-resources', ['--exclude-resources', 'secrets'], { excludeResources: ['secrets'] }],
    [
      '--include-cluster-resources',
      ['--include-cluster-resources', 'false'],
      { includeClusterResources: 'false' },
    ],
    ['--ttl', ['--ttl', '24h'], { ttl: { text: '24h', ms: 86_400_000 } }],
    ['--labels', ['--labels', 'team=a'], { labels: { team: 'a' } }],
    ['--suspend', ['--suspend'], { suspend: true }],
    ['--no-suspend', ['--no-suspend'], { suspend: false }],
  ])('records %s as replacing its Velero field', async (_, args, given) => {
    const o = await optionsOf<VeleroCreateOptions>(fromVelero(...args), 'schedule create');
    expect(o.given).toEqual(given);
  });

  it('takes the flags Velero has no counterpart of as they are', async () => {
    const o = await optionsOf<VeleroCreateOptions>(
      fromVelero(
        '--keep-daily',
        '7',
        '--time-zone',
        'Europe/Berlin',
        '--encrypt-to',
        RECIPIENT,
        '--storage',
        'vault',
        '--install-namespace',
        'backups',
        '--dry-run',
      ),
      'schedule create',
    );
    expect(o).toMatchObject({
      policy: { keep: { daily: 7 }, expired: true, timeZone: 'Europe/Berlin' },
      encryptTo: [RECIPIENT],
      storage: 'vault',
      installNamespace: 'backups',
      dryRun: true,
      output: 'yaml',
    });
  });

  it('reads a bare NAME as a Schedule in the namespace velero', async () => {
    const o = await optionsOf<VeleroCreateOptions>(
      ['schedule', 'create', 'nightly', '--from-velero-schedule', 'daily'],
      'schedule create',
    );
    expect(o.fromVelero).toEqual({ namespace: 'velero', name: 'daily' });
  });

  it.each([
    [
      'a reference with two slashes',
      ['schedule', 'create', 'nightly', '--from-velero-schedule', 'a/b/c'],
      'invalid --from-velero-schedule "a/b/c"',
      'give NAMESPACE/NAME of the Velero Schedule, e.g. velero/nightly',
    ],
    [
      'an invalid --schedule given with it',
      fromVelero('--schedule', '0 2 * *'),
      'invalid cron schedule "0 2 * *": expected 5 fields, found 4',
    ],
    [
      'the label each run sets itself',
      fromVelero('--labels', 'kubectl-snapshot/schedule=x'),
      '--labels may not set kubectl-snapshot/schedule: the schedule sets it',
    ],
    ['an empty -n', fromVelero('-n', ''), '--namespace needs a value'],
    [
      '-n with -A',
      fromVelero('-n', 'shop', '-A'),
      '-n and -A cannot be combined',
      'use -A with --exclude-namespace to leave some out',
    ],
    [
      'an unknown cluster resources mode',
      fromVelero('--include-cluster-resources', 'some'),
      '--include-cluster-resources must be auto, true or false, not "some"',
    ],
    ['a TTL of zero', fromVelero('--ttl', '0h'), 'invalid duration "0h"'],
  ])('refuses %s before reading the Velero Schedule', async (_, argv, message, hint?: string) => {
    const err = await refusal(argv);
    expect(err.split('\n')[0]).toBe(`error: ${message}`);
    if (hint) expect(err).toContain(`  ${hint}\n`);
  });

  it('refuses --from-velero-schedule without a value', async () => {
    expect(await refusal(['schedule', 'create', 'nightly', '--from-velero-schedule'])).toContain(
      'from-velero-schedule',
    );
  });
});
