// argv → the options of every schedule subcommand, the errors a user sees before anything
// runs, and what exec and list do with the results of the cluster and storage.
import { PassThrough } from 'node:stream';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Deps } from '../../../src/cli/command.js';
import type { ScheduleCreateOptions } from '../../../src/cli/commands/schedule/create.js';
import { execCommand, type ScheduleExecOptions } from '../../../src/cli/commands/schedule/exec.js';
import { listCommand } from '../../../src/cli/commands/schedule/list.js';
import { CommandFailed, EXIT } from '../../../src/core/errors.js';
import type { Selection, SnapshotManifest } from '../../../src/core/types.js';
import { parseCron, upcomingRuns } from '../../../src/schedule/cron.js';
import { execSchedule } from '../../../src/schedule/exec.js';
import {
  containerStorageUrl,
  DEFAULT_IMAGE,
  execArgs,
  type ScheduleSpec,
} from '../../../src/schedule/render.js';
import { listSchedules } from '../../../src/schedule/status.js';
import type { PruneResult } from '../../../src/snapshots/prune.js';
import { selection } from '../builders.js';
import { optionsOf, parse, refusal } from './harness.js';

vi.mock('../../../src/schedule/exec.js', () => ({ execSchedule: vi.fn() }));
vi.mock('../../../src/schedule/status.js', () => ({ listSchedules: vi.fn() }));

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

const shop: Selection = selection(['shop']);

const create = (...args: string[]) => ['schedule', 'create', 'nightly', '-n', 'shop', ...args];
const daily = (...args: string[]) => create('--schedule', '0 2 * * *', ...args);

describe('schedule create options', () => {
  it("leaves the install namespace to the creator's rights, and defaults to the default image, UTC and no TTL or encryption", async () => {
    expect(await optionsOf(daily(), 'schedule create')).toEqual({
      kube: {},
      name: 'nightly',
      output: 'table',
      dryRun: false,
      schedule: parseCron('0 2 * * *'),
      suspend: false,
      image: DEFAULT_IMAGE,
      selection: shop,
      labels: {},
      encryptTo: [],
      policy: { keep: {}, expired: true, timeZone: 'UTC' },
    } satisfies ScheduleCreateOptions);
  });

  const other = `age1${'q'.repeat(58)}`;

  it.each([
    [
      'parses the cron expression once, trimmed',
      create('--schedule', '  @daily '),
      { schedule: parseCron('@daily') },
    ],
    [
      'puts the schedule into --install-namespace',
      daily('--install-namespace', 'backups'),
      { installNamespace: 'backups' },
    ],
    [
      'evaluates the cron expression and counts the keep rules in --time-zone',
      daily('--time-zone', 'Europe/Berlin', '--keep-daily', '7'),
      {
        timeZone: 'Europe/Berlin',
        policy: { keep: { daily: 7 }, expired: true, timeZone: 'Europe/Berlin' },
      },
    ],
    [
      'turns the keep rules into a retention policy that also removes expired snapshots',
      daily('--keep-last', '3', '--keep-weekly', '4', '--keep-monthly', '6'),
      { policy: { keep: { last: 3, weekly: 4, monthly: 6 }, expired: true, timeZone: 'UTC' } },
    ],
    [
      'keeps --ttl as given, for the CronJob, and in milliseconds',
      daily('--ttl', '1h30m'),
      { ttl: { text: '1h30m', ms: 90 * 60_000 } },
    ],
    [
      'takes labels repeated or comma-separated',
      daily('--labels', 'team=payments,tier=gold', '--labels', 'example.com/note='),
      { labels: { team: 'payments', tier: 'gold', 'example.com/note': '' } },
    ],
    [
      'takes age recipients repeated or comma-separated, trimmed',
      daily('--encrypt-to', `${RECIPIENT}, ${other}`, '--encrypt-to', RECIPIENT),
      { encryptTo: [RECIPIENT, other, RECIPIENT] },
    ],
    [
      'backs up all namespaces but some with -A and --exclude-namespace',
      [
        'schedule',
        'create',
        'everything',
        '-A',
        '--exclude-namespace',
        'kube-system,kube-public',
        '--include-cluster-resources',
        'true',
        '-l',
        'app=web',
        '--schedule',
        '@hourly',
      ],
      {
        name: 'everything',
        selection: {
          namespaces: [],
          allNamespaces: true,
          excludeNamespaces: ['kube-system', 'kube-public'],
          labelSelector: 'app=web',
          includeResources: [],
          excludeResources: [],
          includeClusterResources: 'true',
        },
      },
    ],
    ['prints YAML with --dry-run', daily('--dry-run'), { dryRun: true, output: 'yaml' }],
    [
      'prints JSON with --dry-run -o json',
      daily('--dry-run', '-o', 'json'),
      { dryRun: true, output: 'json' },
    ],
    [
      'passes --storage, --image, --suspend and the kube context on',
      daily(
        '--storage',
        'vault',
        '--image',
        'registry.example/ks:1',
        '--suspend',
        '--context',
        'prod',
      ),
      {
        storage: 'vault',
        image: 'registry.example/ks:1',
        suspend: true,
        kube: { context: 'prod' },
      },
    ],
  ])('%s', async (_, argv, expected) => {
    expect(await optionsOf(argv, 'schedule create')).toMatchObject(expected);
  });

  const cronHint =
    'use five fields "MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK", e.g. "0 2 * * *" (02:00 every day), ' +
    '"*/15 * * * *", "30 1 * * MON-FRI", or @hourly, @daily, @weekly, @monthly, @yearly';
  const nameHint =
    "use at most 52 lowercase letters, digits and '-', starting and ending with a letter or digit (it names the CronJob)";
  const durationHint = 'use a positive duration such as 720h, 7d or 1h30m';

  it.each([
    [
      'a cron expression with four fields',
      create('--schedule', '0 2 * *'),
      'invalid cron schedule "0 2 * *": expected 5 fields, found 4',
      cronHint,
    ],
    [
      'day of week 7, which Kubernetes does not take for Sunday',
      create('--schedule', '0 0 * * 7'),
      'invalid cron schedule "0 0 * * 7": "7" is outside 0-6 (day of week)',
      cronHint,
    ],
    [
      'a time zone inside the cron expression',
      create('--schedule', 'TZ=UTC 0 2 * * *'),
      'invalid cron schedule "TZ=UTC 0 2 * * *": a time zone cannot be part of the schedule',
      'pass it separately with --time-zone, e.g. --time-zone Europe/Berlin',
    ],
    [
      'an unknown time zone',
      daily('--time-zone', 'Mars/Olympus'),
      'unknown time zone "Mars/Olympus"',
      'use an IANA time zone name such as UTC, Europe/Berlin or America/New_York (see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones)',
    ],
    [
      'a time zone in the wrong case',
      daily('--time-zone', 'europe/berlin'),
      'unknown time zone "europe/berlin": time zone names are case-sensitive',
      'did you mean Europe/Berlin?',
    ],
    ['a TTL in an unknown unit', daily('--ttl', '30x'), 'invalid duration "30x"', durationHint],
    ['a TTL of zero', daily('--ttl', '0h'), 'invalid duration "0h"', durationHint],
    [
      'a label without a value',
      daily('--labels', 'team'),
      'invalid label "team"',
      'use KEY=VALUE, e.g. --labels team=payments',
    ],
    [
      'the label each run sets itself',
      daily('--labels', 'kubectl-snapshot/schedule=other'),
      '--labels may not set kubectl-snapshot/schedule: the schedule sets it',
    ],
    [
      '--dry-run with table output',
      daily('--dry-run', '-o', 'table'),
      '--dry-run prints manifests: use -o yaml or -o json',
    ],
    [
      'an unknown output format',
      daily('-o', 'wide'),
      'unsupported output format "wide"',
      'use one of: table, json, yaml',
    ],
    [
      'a schedule name in capitals',
      ['schedule', 'create', 'Nightly', '-n', 'shop', '--schedule', '@daily'],
      'invalid schedule name "Nightly"',
      nameHint,
    ],
    [
      'a schedule name too long for a CronJob',
      ['schedule', 'create', 'n'.repeat(53), '-n', 'shop', '--schedule', '@daily'],
      `invalid schedule name "${'n'.repeat(53)}"`,
      nameHint,
    ],
    [
      '-n with -A',
      daily('-A'),
      '-n and -A cannot be combined',
      'use -A with --exclude-namespace to leave some out',
    ],
    [
      'no namespace',
      ['schedule', 'create', 'nightly', '--schedule', '@daily'],
      'no namespace selected',
      'pass -n NAMESPACE (repeatable) or -A for all namespaces',
    ],
    [
      'an unknown cluster resources mode',
      daily('--include-cluster-resources', 'some'),
      '--include-cluster-resources must be auto, true or false, not "some"',
    ],
    [
      'a fractional keep count',
      daily('--keep-last', '1.5'),
      '--keep-last must be a whole number of snapshots, not "1.5"',
    ],
    [
      'a malformed age recipient',
      daily('--encrypt-to', 'age1short'),
      'invalid age recipient "age1short"',
      'pass an X25519 public key (age1…), e.g. from: age-keygen -y key.txt',
    ],
    // These used to create a schedule of plaintext backups, without expiry, of every type.
    [
      'an empty age recipient',
      daily('--encrypt-to', ''),
      '--encrypt-to needs a value',
      'e.g. --encrypt-to age1…; or leave the flag out',
    ],
    [
      '--encrypt-to with no value',
      daily('--encrypt-to'),
      '--encrypt-to needs a value',
      'e.g. --encrypt-to age1…; or leave the flag out',
    ],
    [
      'an empty TTL',
      daily('--ttl', ''),
      '--ttl needs a value',
      'e.g. --ttl 720h; or leave the flag out',
    ],
    ['a negative TTL', daily('--ttl', '-5h'), 'invalid duration "-5h"', durationHint],
    [
      'an empty --include-resources',
      daily('--include-resources', ''),
      '--include-resources needs a value',
      'e.g. --include-resources deployments,configmaps; or leave the flag out',
    ],
    [
      'an empty --exclude-namespace',
      ['schedule', 'create', 'all', '-A', '--exclude-namespace', '', '--schedule', '@daily'],
      '--exclude-namespace needs a value',
      'e.g. --exclude-namespace kube-system; or leave the flag out',
    ],
    [
      'a label key with a space',
      daily('--labels', 'bad label=x'),
      'invalid label "bad label=x": "bad label" is not a valid label key',
      'a key is [PREFIX/]NAME: NAME at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit; PREFIX a DNS subdomain (e.g. example.com)',
    ],
    [
      'a label value with =',
      daily('--labels', 'note=a=b'),
      'invalid label "note=a=b": "a=b" is not a valid label value',
      'a value is empty or at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit',
    ],
    ['an image with a space', daily('--image', 'my image'), 'invalid --image "my image"'],
    [
      'an install namespace that is no namespace name',
      daily('--install-namespace', 'Backups'),
      'invalid --install-namespace "Backups"',
    ],
  ])('refuses %s before touching the cluster', async (_, argv, message, hint?: string) => {
    expect(await refusal(argv)).toBe(`error: ${message}\n${hint ? `  ${hint}\n` : ''}`);
  });

  it('checks the name first, then the cron expression, then the time zone', async () => {
    expect(
      await refusal([
        'schedule',
        'create',
        'Bad',
        '-n',
        'shop',
        '--schedule',
        'nope',
        '--time-zone',
        'Mars/Olympus',
      ]),
    ).toContain('invalid schedule name "Bad"');
    expect(await refusal(create('--schedule', 'nope', '--time-zone', 'Mars/Olympus'))).toContain(
      'invalid cron schedule "nope"',
    );
  });

  it('without --schedule or --from-velero-schedule it is refused, naming both', async () => {
    expect(await refusal(create())).toBe(
      'error: --schedule is required\n  e.g. --schedule "0 2 * * *", or --from-velero-schedule NAMESPACE/NAME\n',
    );
  });
});

describe('schedule list, describe, delete, run, suspend and resume options', () => {
  it('list reads the install namespace, the output format and which cluster to ask', async () => {
    expect(await optionsOf(['schedule', 'list'], 'schedule list')).toEqual({
      kube: {},
      installNamespace: 'kubectl-snapshot',
      output: 'table',
    });
    expect(
      await optionsOf(
        ['schedule', 'ls', '--install-namespace', 'backups', '-o', 'json', '--kubeconfig', 'k'],
        'schedule list',
      ),
    ).toEqual({ kube: { kubeconfig: 'k' }, installNamespace: 'backups', output: 'json' });
  });

  it('describe takes one schedule name and the output format', async () => {
    expect(
      await optionsOf(['schedule', 'describe', 'nightly', '-o', 'yaml'], 'schedule describe'),
    ).toEqual({
      kube: {},
      installNamespace: 'kubectl-snapshot',
      name: 'nightly',
      output: 'yaml',
    });
  });

  it('delete takes several names and ignores -o', async () => {
    expect(
      await optionsOf(
        ['schedule', 'delete', 'a', 'b', '--install-namespace', 'backups', '-o', 'xml'],
        'schedule delete',
      ),
    ).toEqual({ kube: {}, installNamespace: 'backups', names: ['a', 'b'] });
  });

  it('run prints the Job it started as JSON with -o json', async () => {
    expect(await optionsOf(['schedule', 'run', 'nightly', '-o', 'json'], 'schedule run')).toEqual({
      kube: {},
      installNamespace: 'kubectl-snapshot',
      name: 'nightly',
      output: 'json',
    });
  });

  it('suspend and resume say which in their options', async () => {
    expect(await optionsOf(['schedule', 'suspend', 'nightly'], 'schedule suspend')).toEqual({
      kube: {},
      installNamespace: 'kubectl-snapshot',
      name: 'nightly',
      suspend: true,
    });
    expect(
      await optionsOf(['schedule', 'resume', 'nightly', '--context', 'c'], 'schedule resume'),
    ).toEqual({
      kube: { context: 'c' },
      installNamespace: 'kubectl-snapshot',
      name: 'nightly',
      suspend: false,
    });
  });

  it.each([
    ['list', ['schedule', 'list', '-o', 'wide'], 'wide'],
    ['describe', ['schedule', 'describe', 'nightly', '-o', 'xml'], 'xml'],
    ['run', ['schedule', 'run', 'nightly', '-o', 'xml'], 'xml'],
  ])('%s refuses an output format it cannot print', async (_, argv, format) => {
    expect(await refusal(argv)).toBe(
      `error: unsupported output format "${format}"\n  use one of: table, json, yaml\n`,
    );
  });
});

describe('schedule exec options', () => {
  const spec: ScheduleSpec = {
    name: 'nightly',
    installNamespace: 'backups',
    schedule: '0 2 * * *',
    timeZone: 'Europe/Berlin',
    suspend: false,
    image: DEFAULT_IMAGE,
    storage: {
      kind: 's3',
      bucket: 'backups',
      prefix: 'prod',
      endpoint: 'https://minio:9000',
      caFile: '/home/me/ca.pem',
    },
    selection: {
      ...shop,
      namespaces: ['shop', 'web'],
      labelSelector: 'app in (a,b)',
      excludeResources: ['secrets'],
    },
    ttl: '720h',
    labels: { team: 'payments' },
    encryptTo: [RECIPIENT],
    keep: { daily: 7, weekly: 4 },
  };

  it('runs with exactly what schedule create rendered into the CronJob', async () => {
    const o = await optionsOf<ScheduleExecOptions>(execArgs(spec), 'schedule exec');
    expect(o).toEqual({
      kube: {},
      storage: containerStorageUrl(spec.storage, true),
      progress: false,
      name: 'nightly',
      selection: spec.selection,
      ttl: { text: '720h', ms: 720 * 3_600_000 },
      labels: { team: 'payments' },
      encryptTo: [RECIPIENT],
      policy: { keep: { daily: 7, weekly: 4 }, expired: true, timeZone: 'Europe/Berlin' },
    } satisfies ScheduleExecOptions);
  });

  it('counts the keep rules in UTC without --time-zone', async () => {
    const o = await optionsOf<ScheduleExecOptions>(
      ['schedule', 'exec', 'nightly', '-n', 'shop', '--keep-last', '3'],
      'schedule exec',
    );
    expect(o.policy).toEqual({ keep: { last: 3 }, expired: true, timeZone: 'UTC' });
    expect(o.progress).toBe(true);
    expect(o).not.toHaveProperty('ttl');
  });

  it.each([
    ['an invalid schedule name', ['Nightly'], 'invalid schedule name "Nightly"'],
    ['-n with -A', ['nightly', '-A'], '-n and -A cannot be combined'],
    ['a bad TTL', ['nightly', '--ttl', 'soon'], 'invalid duration "soon"'],
    ['a label without a key', ['nightly', '--labels', '=x'], 'invalid label "=x"'],
    ['a TTL without a value', ['nightly', '--ttl'], '--ttl needs a value'],
    ['an empty age recipient', ['nightly', '--encrypt-to', ''], '--encrypt-to needs a value'],
  ])('refuses %s, as create does', async (_, args, message) => {
    const stderr = await refusal(['schedule', 'exec', ...args, '-n', 'shop']);
    expect(stderr.split('\n')[0]).toBe(`error: ${message}`);
  });

  it('is left out of --help', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect((await parse(['schedule', '--help'])).code).toBe(0);
      const help = log.mock.calls.flat().join('\n');
      expect(help).toContain('schedule create <name>');
      expect(help).not.toContain('exec');
    } finally {
      log.mockRestore();
    }
  });
});

// ---- run, with the cluster and storage replaced -------------------------------------------

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c: Buffer) => out.push(c.toString('utf8')));
  (stderr as unknown as PassThrough).on('data', (c: Buffer) => err.push(c.toString('utf8')));
  return { io: { stdout, stderr, env: {} }, out: () => out.join(''), err: () => err.join('') };
}

function manifest(name: string, completedAt = '2024-05-01T02:00:10Z'): SnapshotManifest {
  return {
    name,
    completedAt,
    totalObjects: 3,
    namespaces: ['shop'],
    archive: { size: 2048 },
    resources: [{ resource: 'configmaps', count: 3 }],
    warnings: [],
  } as unknown as SnapshotManifest;
}

function fakeDeps(
  streams: ReturnType<typeof io>,
  storage: (flag: string | undefined) => Promise<unknown> = async () => ({ snapshots: {} }),
): Deps {
  return {
    io: streams.io,
    stopSignal: () => new AbortController().signal,
    kube: async () => ({}) as never,
    storage: storage as Deps['storage'],
  };
}

/** What a prune that removed nothing reports, with `fields` changed. */
function pruned(fields: Partial<PruneResult>): PruneResult {
  return {
    location: 's3://backups/prod',
    dryRun: false,
    considered: 0,
    keep: [],
    remove: [],
    deleted: [],
    failed: [],
    damaged: [],
    leftovers: [],
    ...fields,
  };
}

describe('schedule exec run', () => {
  const options: ScheduleExecOptions = {
    kube: {},
    progress: false,
    name: 'nightly',
    selection: shop,
    labels: {},
    encryptTo: [RECIPIENT],
    policy: { keep: { last: 1 }, expired: true, timeZone: 'UTC' },
  };

  beforeEach(() => vi.mocked(execSchedule).mockReset());

  it('a prune that cannot delete a snapshot ends in a partial failure after the full report', async () => {
    vi.mocked(execSchedule).mockResolvedValue({
      manifest: manifest('nightly-20240501-020000'),
      prune: pruned({
        considered: 2,
        remove: [{ snapshot: manifest('nightly-20240430-020000'), reasons: ['not kept'] } as never],
        failed: [{ name: 'nightly-20240430-020000', message: 'access denied' }],
      }),
    });
    const s = io();
    const failure = await execCommand.run(fakeDeps(s), options).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CommandFailed);
    expect(failure).toMatchObject({
      exitCode: EXIT.partial,
      message: '1 snapshot(s) could not be pruned: nightly-20240430-020000',
    });
    expect(s.out()).toContain('Snapshot nightly-20240501-020000 completed');
    expect(s.out()).toContain('prune (schedule nightly):');
    expect(s.out()).toContain('error: deleting nightly-20240430-020000 failed: access denied');
    expect(vi.mocked(execSchedule).mock.calls[0]?.[1]).toMatchObject({
      schedule: 'nightly',
      encryption: { recipients: [RECIPIENT] },
      policy: options.policy,
    });
  });

  it('passes the TTL in milliseconds and warns about Secrets stored unencrypted', async () => {
    vi.mocked(execSchedule).mockResolvedValue({
      manifest: {
        ...manifest('nightly-20240501-020000'),
        resources: [{ resource: 'secrets', count: 2 }],
      } as SnapshotManifest,
      prune: pruned({ considered: 1 }),
    });
    const s = io();
    await execCommand.run(fakeDeps(s), {
      ...options,
      encryptTo: [],
      ttl: { text: '1h', ms: 3_600_000 },
    });
    const call = vi.mocked(execSchedule).mock.calls[0]?.[1];
    expect(call?.ttlMs).toBe(3_600_000);
    expect(call).not.toHaveProperty('encryption');
    expect(s.err()).toContain('warning: 2 Secret(s) stored unencrypted');
  });
});

describe('schedule list run', () => {
  const info = (name: string, storage?: string) => ({
    name,
    namespace: 'kubectl-snapshot',
    schedule: '0 2 * * *',
    suspended: false,
    active: 0,
    ...(storage ? { storage } : {}),
  });

  it('shows each schedule’s newest snapshot, and <unknown> with a warning when its storage cannot be read', async () => {
    vi.mocked(listSchedules).mockResolvedValue([
      info('broken', 's3://gone/x'),
      info('fresh', 's3://b/new'),
      info('nightly', 's3://b/prod'),
    ]);
    const storage = async (url: string | undefined) => {
      if (url === 's3://gone/x') throw new Error('bucket does not exist');
      return {
        snapshots: {
          newestOfSchedule: async (name: string) =>
            url === 's3://b/prod' ? manifest(`${name}-20240501-020000`) : undefined,
        },
      };
    };
    const json = io();
    await listCommand.run(fakeDeps(json, storage), {
      kube: {},
      installNamespace: 'kubectl-snapshot',
      output: 'json',
    });
    expect(json.err()).toBe(
      'warning: cannot read the snapshots of schedule broken: bucket does not exist\n',
    );
    const listed = JSON.parse(json.out()) as { name: string; lastSnapshot?: unknown }[];
    expect(listed.map((s) => s.lastSnapshot)).toEqual([
      undefined,
      undefined,
      { name: 'nightly-20240501-020000', completedAt: '2024-05-01T02:00:10Z' },
    ]);

    const t = io();
    await listCommand.run(fakeDeps(t, storage), {
      kube: {},
      installNamespace: 'kubectl-snapshot',
      output: 'table',
    });
    const rows = t.out().split('\n');
    expect(rows.find((r) => r.startsWith('broken'))).toMatch(/<unknown>\s*$/);
    expect(rows.find((r) => r.startsWith('fresh'))).toMatch(/<none>\s*$/);
    expect(rows.find((r) => r.startsWith('nightly'))).toMatch(
      /nightly-20240501-020000 \(.* ago\)\s*$/,
    );
  });
});

describe('next runs, as create prints them and list and describe show them', () => {
  const after = new Date('2024-05-10T12:00:00Z');

  it('come from the parsed schedule or from the expression a CronJob holds, in its time zone', () => {
    const berlin = ['2024-05-11T00:00:00.000Z', '2024-05-12T00:00:00.000Z'];
    expect(upcomingRuns(parseCron('0 2 * * *'), 2, 'Europe/Berlin', after)).toEqual(berlin);
    expect(upcomingRuns('0 2 * * *', 2, 'Europe/Berlin', after)).toEqual(berlin);
    expect(upcomingRuns('@daily', 1, undefined, after)).toEqual(['2024-05-11T00:00:00.000Z']);
  });

  it('are none, not an error, for an expression or time zone the cluster holds but that does not parse', () => {
    expect(upcomingRuns('not cron', 3, undefined, after)).toEqual([]);
    expect(upcomingRuns('', 1, undefined, after)).toEqual([]);
    expect(upcomingRuns('@daily', 1, 'Mars/Olympus', after)).toEqual([]);
  });
});
