// argv → the options of restore and diff, and the errors a user sees for bad flags.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type {
  DiffCommandOptions,
  RestoreCommandOptions,
} from '../../../src/cli/commands/restore.js';
import type { KubeClient } from '../../../src/kube/client.js';
import { type RunMode, reportedDryRun } from '../../../src/restore/run.js';
import { wholeSnapshot as whole } from '../builders.js';
import { optionsOf, refusal } from './harness.js';

const wholeSnapshot = whole();

const restore = (argv: string[], env?: NodeJS.ProcessEnv) =>
  optionsOf<RestoreCommandOptions>(['restore', ...argv], 'restore', env);
const diff = (argv: string[], env?: NodeJS.ProcessEnv) =>
  optionsOf<DiffCommandOptions>(['diff', ...argv], 'diff', env);

/** What both commands run with for `shop-1` and no other flag. */
const ofShop1 = {
  kube: {},
  output: 'table',
  progress: true,
  name: 'shop-1',
  keys: {},
  plan: wholeSnapshot,
};

describe('restore options', () => {
  it('by default creates everything in the snapshot, 16 at a time, printing a table', async () => {
    expect(await restore(['shop-1'])).toEqual({
      ...ofShop1,
      mode: 'create',
      concurrency: 16,
      allowPartial: false,
      keepFieldOwners: true,
      waitTerminatingMs: 120_000,
    });
  });

  it('waits for objects being deleted as long as --wait-terminating says; 0 does not wait', async () => {
    expect(await restore(['shop-1', '--wait-terminating', '5m'])).toMatchObject({
      waitTerminatingMs: 300_000,
    });
    expect(await restore(['shop-1', '--wait-terminating=90s'])).toMatchObject({
      waitTerminatingMs: 90_000,
    });
    expect(await restore(['shop-1', '--wait-terminating', '0'])).toMatchObject({
      waitTerminatingMs: 0,
    });
  });

  it('a --wait-terminating that is no duration says how to write one', async () => {
    expect(await refusal(['restore', 'a', '--wait-terminating', 'soon'])).toBe(
      'error: invalid duration "soon"\n  use a positive duration such as 720h, 7d or 1h30m\n',
    );
  });

  it('gives created objects the backup’s field owners unless --keep-field-owners=false', async () => {
    expect(await restore(['shop-1', '--keep-field-owners=false'])).toMatchObject({
      keepFieldOwners: false,
    });
    expect(await restore(['shop-1', '--no-keep-field-owners'])).toMatchObject({
      keepFieldOwners: false,
    });
  });

  it('restores a Velero backup that did not complete only with --allow-partial', async () => {
    expect(await restore(['shop-1', '--allow-partial'])).toMatchObject({ allowPartial: true });
  });

  it('passes the cluster, storage, output and progress flags on', async () => {
    expect(
      await restore([
        'shop-1',
        '--kubeconfig',
        'kc.yaml',
        '--context',
        'prod',
        '--storage',
        's3://bucket/p',
        '-o',
        'json',
        '--no-progress',
      ]),
    ).toMatchObject({
      kube: { kubeconfig: 'kc.yaml', context: 'prod' },
      storage: 's3://bucket/p',
      output: 'json',
      progress: false,
    });
  });

  it('restores the namespaces of -n and --include-namespaces together', async () => {
    const o = await restore(['shop-1', '-n', 'a', '--include-namespaces', 'b,c', '-n', 'd']);
    expect(o.plan.namespaces).toEqual(['a', 'd', 'b', 'c']);
  });

  it('maps each OLD=NEW of --namespace-mapping, repeated or comma-separated', async () => {
    const o = await restore([
      'shop-1',
      '--namespace-mapping',
      'shop=shop-copy,web=web-copy',
      '--namespace-mapping',
      'db=db-copy',
    ]);
    expect(o.plan.mapping).toEqual(
      new Map([
        ['shop', 'shop-copy'],
        ['web', 'web-copy'],
        ['db', 'db-copy'],
      ]),
    );
  });

  it('parses the label selector, resource filters, cluster scope and --preserve-nodeports', async () => {
    const o = await restore([
      'shop-1',
      '-l',
      'app=web,!legacy',
      '--include-resources',
      'configmaps,secrets',
      '--exclude-resources',
      'secrets',
      '--include-cluster-resources',
      'false',
      '--preserve-nodeports',
    ]);
    expect(o.plan).toEqual({
      ...wholeSnapshot,
      selector: [
        { key: 'app', op: 'in', values: ['web'] },
        { key: 'legacy', op: 'notexists' },
      ],
      includeResources: ['configmaps', 'secrets'],
      excludeResources: ['secrets'],
      includeClusterResources: 'false',
      preserveNodePorts: true,
    });
  });

  it.each([
    ['--dry-run', 'client-dry-run'],
    ['--dry-run=client', 'client-dry-run'],
    ['--dry-run client', 'client-dry-run'],
    ['--dry-run=server', 'server-dry-run'],
    ['no --dry-run', 'create'],
  ])('with %s, restore runs as %s', async (flags, mode) => {
    const argv = flags.startsWith('no ') ? [] : flags.split(' ');
    expect((await restore(['shop-1', ...argv])).mode).toBe(mode);
  });

  it('takes --concurrency as the creates in flight', async () => {
    expect((await restore(['shop-1', '--concurrency', '4'])).concurrency).toBe(4);
    expect((await restore(['shop-1', '--concurrency=auto'])).concurrency).toBe('auto');
  });

  it('names the key files from the flags, the identity file else from KUBECTL_SNAPSHOT_IDENTITY_FILE', async () => {
    expect(
      (await restore(['shop-1', '--identity-file', 'key.txt', '--passphrase-file', 'p.txt'])).keys,
    ).toEqual({ identityFile: 'key.txt', passphraseFile: 'p.txt' });
    const env = { KUBECTL_SNAPSHOT_IDENTITY_FILE: 'env-key.txt' };
    expect((await restore(['shop-1'], env)).keys).toEqual({ identityFile: 'env-key.txt' });
    expect((await restore(['shop-1', '--identity-file', 'flag.txt'], env)).keys).toEqual({
      identityFile: 'flag.txt',
    });
  });
});

describe('diff options', () => {
  it('by default compares everything in the snapshot without field-level diffs', async () => {
    expect(await diff(['shop-1'])).toEqual({
      ...ofShop1,
      details: false,
    });
  });

  it('--details asks for field-level diffs', async () => {
    expect((await diff(['shop-1', '--details'])).details).toBe(true);
  });

  it('selects and maps namespaces as restore does', async () => {
    const o = await diff([
      'shop-1',
      '-n',
      'shop',
      '--namespace-mapping',
      'shop=copy',
      '-o',
      'yaml',
    ]);
    expect(o.output).toBe('yaml');
    expect(o.plan.namespaces).toEqual(['shop']);
    expect(o.plan.mapping).toEqual(new Map([['shop', 'copy']]));
  });

  it('takes the identity file from KUBECTL_SNAPSHOT_IDENTITY_FILE without the flag', async () => {
    const env = { KUBECTL_SNAPSHOT_IDENTITY_FILE: 'env-key.txt' };
    expect((await diff(['shop-1'], env)).keys).toEqual({ identityFile: 'env-key.txt' });
  });
});

describe('restore and diff refuse bad flags before anything runs', () => {
  it.each([
    [['restore', 'a', '--dry-run=maybe'], 'error: --dry-run must be client or server, not "maybe"'],
    [
      ['restore', 'a', '--namespace-mapping', 'nope'],
      'error: invalid namespace mapping "nope": expected OLD=NEW',
    ],
    [
      ['diff', 'a', '--namespace-mapping', 'a=B_AD'],
      'error: invalid namespace mapping "a=B_AD": "B_AD" is not a valid namespace name',
    ],
    [
      ['restore', 'a', '--include-cluster-resources', 'some'],
      'error: --include-cluster-resources must be auto, true or false, not "some"',
    ],
    [
      ['diff', 'a', '--include-cluster-resources', 'yes'],
      'error: --include-cluster-resources must be auto, true or false, not "yes"',
    ],
    [['restore', 'a', '-o', 'xml'], 'error: unsupported output format "xml"'],
    [['diff', 'a', '-o', 'wide'], 'error: unsupported output format "wide"'],
    [['restore', 'a', '-l', 'a in (b'], 'error: invalid label selector "a in (b"'],
    [
      ['restore', 'a', '--concurrency', 'many'],
      'error: --concurrency must be auto or a whole number of at least 1, not "many"\n',
    ],
    [
      ['restore', 'a', '--concurrency', '0'],
      'error: --concurrency must be auto or a whole number of at least 1, not "0"',
    ],
    [['restore', 'Bad_Name'], 'error: invalid snapshot name "Bad_Name"'],
  ])('%j is refused with %s', async (argv, message) => {
    expect(await refusal(argv)).toContain(message);
  });

  // Each of these used to restore everything, or into the original namespace.
  it.each([
    [['restore', 'a', '-n', ''], '--namespace needs a value'],
    [['diff', 'a', '-n', 'shop', '-n', ''], '--namespace needs a value'],
    [['restore', 'a', '--include-namespaces', ''], '--include-namespaces needs a value'],
    [['restore', 'a', '--include-namespaces'], '--include-namespaces needs a value'],
    [['restore', 'a', '--namespace-mapping', ''], '--namespace-mapping needs a value'],
    [['restore', 'a', '--wait-terminating', ''], '--wait-terminating needs a value'],
    [['diff', 'a', '--namespace-mapping'], '--namespace-mapping needs a value'],
    [['restore', 'a', '--include-resources', ''], '--include-resources needs a value'],
    [['restore', 'a', '--exclude-resources'], '--exclude-resources needs a value'],
    [['diff', 'a', '--exclude-resources', ' , '], '--exclude-resources needs a value'],
    // These meant the default kubeconfig, the current context, or no key at all.
    [['restore', 'a', '--kubeconfig', ''], '--kubeconfig needs a value'],
    [['diff', 'a', '--context', ' '], '--context needs a value'],
    [['restore', 'a', '--identity-file', ''], '--identity-file needs a value'],
    [['diff', 'a', '--passphrase-file', ''], '--passphrase-file needs a value'],
  ])('%j is refused: %s', async (argv, message) => {
    const stderr = await refusal(argv);
    expect(stderr.split('\n')[0]).toBe(`error: ${message}`);
    expect(stderr).toContain(`  e.g. ${message.split(' ')[0]} `);
  });

  it('an empty KUBECTL_SNAPSHOT_IDENTITY_FILE is no identity file, not an error', async () => {
    expect((await restore(['shop-1'], { KUBECTL_SNAPSHOT_IDENTITY_FILE: '' })).keys).toEqual({});
  });

  it('an empty --namespace-mapping says what to write instead', async () => {
    expect(await refusal(['restore', 'a', '--namespace-mapping', ''])).toBe(
      'error: --namespace-mapping needs a value\n' +
        '  e.g. --namespace-mapping shop=shop-copy; or leave the flag out\n',
    );
  });

  it('a bad --dry-run value comes with what the two values do', async () => {
    expect(await refusal(['restore', 'a', '--dry-run=maybe'])).toBe(
      'error: --dry-run must be client or server, not "maybe"\n' +
        '  client prints the plan; server has the API server validate every create\n',
    );
  });

  it('a bad -o names the formats there are', async () => {
    expect(await refusal(['diff', 'a', '-o', 'xml'])).toBe(
      'error: unsupported output format "xml"\n  use one of: table, json, yaml\n',
    );
  });
});

describe("the JSON report's dryRun field", () => {
  const client = {} as KubeClient;
  const modes: Record<RunMode['kind'], RunMode> = {
    'client-dry-run': { kind: 'client-dry-run' },
    'server-dry-run': { kind: 'server-dry-run', client },
    create: { kind: 'create', client },
    compare: { kind: 'compare', client, details: true },
  };
  it.each([
    ['client-dry-run', 'client'],
    ['server-dry-run', 'server'],
    ['create', 'absent'],
    ['compare', 'absent'],
  ] as const)('of a %s run is %s, as scripts read it', (kind, dryRun) => {
    expect(reportedDryRun(modes[kind]) ?? 'absent').toBe(dryRun);
  });
});

describe('restore-time transform flags', () => {
  const rulesFile = (text: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'rules-')), 'rules.yaml');
    writeFileSync(file, text);
    return file;
  };
  const good =
    'version: v1\nresourceModifierRules:\n- conditions: {groupResource: deployments.apps}\n  patches: [{operation: replace, path: /spec/replicas, value: "2"}]\n';

  it('reads and checks a rules file into the plan of restore and diff', async () => {
    for (const run of [restore, diff]) {
      const o = await run([
        'shop-1',
        '--resource-modifiers',
        rulesFile(good),
        '--replicas-to-zero',
      ]);
      expect(o.plan.transform?.rules.map((r) => r.name)).toEqual(['resourceModifierRules[0]']);
      expect(o.plan.transform?.code.map((r) => r.name)).toEqual(['--replicas-to-zero']);
    }
  });

  it('refuses an invalid rules file, naming the problem, before anything runs', async () => {
    const bad = rulesFile(
      good.replace('deployments.apps}', 'deployments.apps, resourceNameRegex: "(["}'),
    );
    expect(await refusal(['restore', 'shop-1', '--resource-modifiers', bad])).toContain(
      'the regex does not compile',
    );
    expect(
      await refusal(['restore', 'shop-1', '--resource-modifiers', '/no/such/rules.yaml']),
    ).toContain('cannot read');
  });

  it('leaves a ConfigMap of rules to be read when the command runs', async () => {
    const o = await restore(['shop-1', '--resource-modifiers', 'configmap:velero/mods']);
    expect(o.modifiersConfigMap).toMatchObject({ namespace: 'velero', name: 'mods' });
    expect(
      await refusal(['restore', 'shop-1', '--resource-modifiers', 'configmap:velero']),
    ).toContain('expected configmap:NAMESPACE/NAME');
  });

  it('turns the shortcuts into generated rules, and clones drop GitOps tracking unless kept', async () => {
    const o = await restore([
      'shop-1',
      '--storage-class-mapping',
      'standard=fast',
      '--image-registry-mapping',
      'docker.io=mirror.local',
      '--namespace-mapping',
      'shop=shop-copy',
    ]);
    expect(o.plan.transform?.code.map((r) => r.name)).toEqual([
      '--storage-class-mapping standard=fast',
      '--image-registry-mapping docker.io=mirror.local',
      'gitops-tracking-removal',
    ]);
    const kept = await restore([
      'shop-1',
      '--namespace-mapping',
      'shop=shop-copy',
      '--keep-gitops-tracking',
    ]);
    expect(kept.plan.transform).toBeUndefined();
    expect(await refusal(['restore', 'shop-1', '--storage-class-mapping', 'standard'])).toContain(
      'expected OLD=NEW',
    );
  });
});
