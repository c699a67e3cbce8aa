// Moving a Velero Schedule end to end: Velero's own CRDs (printed by the real velero binary)
// in the test control plane, a Schedule applied with kubectl, `schedule create
// --from-velero-schedule` translating it (dry run, then for real), kubectl checking the
// CronJob, and the CronJob's command, with only its ServiceAccount token, backing up the
// namespaces the Velero Schedule names.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArchive } from '../../src/archive/reader.js';
import type { SnapshotManifest } from '../../src/core/types.js';
import { buildVeleroBinaries } from '../cluster/velero.js';
import { configMap, create, namespace, type Obj, secret } from './fixtures.js';
import { api, cli, cluster, minio, s3Url, uniqueName } from './helpers.js';
import { runContainer, serviceAccountToken, tokenKubeconfig } from './service-accounts.js';

const execFileP = promisify(execFile);
const LABEL = 'kubectl-snapshot/schedule';

const kubectl = async (args: string[], input?: string): Promise<string> =>
  new Promise((res, rej) => {
    const c = cluster();
    const child = execFile(
      `${c.binDir}/kubectl`,
      ['--kubeconfig', c.kubeconfig, ...args],
      { maxBuffer: 1 << 28 },
      (err, stdout, stderr) =>
        err ? rej(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : res(stdout),
    );
    if (input !== undefined) child.stdin?.end(input);
  });

/** A Velero Schedule as a Velero user has it: a zone in the cron string, and Velero-only fields. */
const veleroSchedule = (ns: string, name: string, namespaces: string[]): Obj => ({
  apiVersion: 'velero.io/v1',
  kind: 'Schedule',
  metadata: { name, namespace: ns },
  spec: {
    schedule: 'CRON_TZ=Europe/Berlin 30 1 * * *',
    useOwnerReferencesInBackup: true,
    template: {
      metadata: { labels: { team: 'e2e' } },
      includedNamespaces: namespaces,
      excludedResources: ['events'],
      includeClusterResources: false,
      ttl: '72h0m0s',
      snapshotVolumes: true,
      storageLocation: 'default',
      defaultVolumesToFsBackup: true,
      csiSnapshotTimeout: '0s',
      hooks: {},
    },
  },
});

describe('a Velero Schedule moved with schedule create --from-velero-schedule', () => {
  const app = uniqueName('vs-app');
  const web = uniqueName('vs-web');
  const other = uniqueName('vs-other');
  // Not `velero`: the Velero e2e tests create that namespace themselves.
  const veleroNs = uniqueName('vs-velero');
  const ins = uniqueName('vs-ins');
  const prefix = uniqueName('vsched');
  const name = 'nightly';
  const ref = `${veleroNs}/${name}`;
  const args = (extra: string[] = []) => [
    'schedule',
    'create',
    name,
    '--from-velero-schedule',
    ref,
    '--storage',
    s3Url(prefix),
    '--install-namespace',
    ins,
    '--image',
    'registry.invalid/kubectl-snapshot:test',
    ...extra,
  ];
  const unmapped = [
    'spec.useOwnerReferencesInBackup (true): snapshots are files in the storage location, not objects a Schedule could own',
    'spec.template.snapshotVolumes (true): kubectl-snapshot backs up no volume data',
    'spec.template.storageLocation ("default"): a BackupStorageLocation is not read; give --storage (a location, or s3://… ?layout=velero to keep writing where Velero reads)',
    'spec.template.defaultVolumesToFsBackup (true): kubectl-snapshot backs up no volume data',
  ].map((l) => `warning: not translated from Velero Schedule ${ref}: ${l}`);
  /** The untranslated-field warnings, sorted: the order of the stored fields is the server's. */
  const warnings = (stderr: string) =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('warning: not translated'))
      .sort();

  beforeAll(async () => {
    const { velero } = buildVeleroBinaries((l) => console.error(`[velero] ${l}`));
    const { stdout: crds } = await execFileP(
      velero,
      ['install', '--crds-only', '--dry-run', '-o', 'yaml'],
      { maxBuffer: 1 << 28, env: { ...process.env, KUBECONFIG: cluster().kubeconfig } },
    );
    await kubectl(['apply', '--server-side', '-f', '-'], crds);
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/schedules.velero.io',
    ]);
    await create([
      namespace(app),
      namespace(web),
      namespace(other),
      namespace(veleroNs),
      configMap(app, 'settings', { mode: 'prod' }),
      secret(app, 'db', { password: 'app-secret' }),
      configMap(web, 'site', { title: 'shop' }),
      configMap(other, 'unrelated'),
    ]);
    await kubectl(
      ['apply', '--server-side', '-f', '-'],
      JSON.stringify(veleroSchedule(veleroNs, name, [app, web])),
    );
  });

  afterAll(async () => {
    for (const n of [app, web, other, veleroNs, ins])
      await api(k8s.CoreV1Api)
        .deleteNamespace({ name: n })
        .catch(() => {});
  });

  it('--dry-run -o yaml prints the CronJob with the translated cron and zone, names each untranslated field, and applies nothing', async () => {
    const r = await cli([...args(), '--dry-run', '-o', 'yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(warnings(r.stderr)).toEqual([...unmapped].sort());
    const docs = loadAll(r.stdout) as { kind: string; spec?: Record<string, unknown> }[];
    const cron = docs.find((d) => d.kind === 'CronJob');
    expect(cron?.spec).toMatchObject({ schedule: '30 1 * * *', timeZone: 'Europe/Berlin' });
    await expect(kubectl(['get', 'namespace', ins])).rejects.toThrow(/NotFound/);
  });

  it('creates the schedule: kubectl shows the CronJob with the cron and zone of the Velero Schedule', async () => {
    const r = await cli(args());
    expect(r.code, r.stderr).toBe(0);
    expect(warnings(r.stderr)).toEqual([...unmapped].sort());
    expect(r.stdout).toContain(`schedule ${name} created in namespace ${ins}`);
    const cron = JSON.parse(await kubectl(['get', 'cronjob', name, '-n', ins, '-o', 'json'])) as {
      spec: { schedule: string; timeZone?: string; suspend?: boolean };
    };
    expect(cron.spec).toMatchObject({
      schedule: '30 1 * * *',
      timeZone: 'Europe/Berlin',
      suspend: false,
    });
  });

  it("the CronJob's command with only its ServiceAccount token backs up the Velero Schedule's namespaces, with its labels and TTL", {
    timeout: 180_000,
  }, async () => {
    const cron = await api(k8s.BatchV1Api).readNamespacedCronJob({ name, namespace: ins });
    const job = { metadata: { namespace: ins }, spec: cron.spec?.jobTemplate.spec } as k8s.V1Job;
    const token = await serviceAccountToken(ins, `kubectl-snapshot-${name}`);
    const run = await runContainer(job, { KUBECONFIG: tokenKubeconfig(token) });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);

    const listed = await cli(['list', '-o', 'json', '--storage', s3Url(prefix)]);
    expect(listed.code, listed.stderr).toBe(0);
    const made = (JSON.parse(listed.stdout) as SnapshotManifest[]).filter((m) =>
      m.name.startsWith(`${name}-`),
    );
    expect(made).toHaveLength(1);
    const m = made[0] as SnapshotManifest;
    expect(m.phase).toBe('Completed');
    expect([...m.namespaces].sort()).toEqual([app, web].sort());
    expect(m.labels).toEqual({ [LABEL]: name, team: 'e2e' });
    expect(Date.parse(m.expiresAt as string) - Date.parse(m.startedAt)).toBe(72 * 3_600_000);

    const entries: string[] = [];
    const stream = await minio().getObject(
      cluster().s3.bucket,
      `${prefix}/snapshots/${m.name}/resources.tar.gz`,
    );
    await readArchive(stream, ({ name: n }) => {
      entries.push(n);
    });
    expect(entries).toContain(`resources/configmaps/namespaces/${app}/settings.json`);
    expect(entries).toContain(`resources/secrets/namespaces/${app}/db.json`);
    expect(entries).toContain(`resources/configmaps/namespaces/${web}/site.json`);
    expect(entries.filter((e) => e.includes(other))).toEqual([]);
    // includeClusterResources: false: not even the Namespace objects.
    expect(entries.filter((e) => e.includes('/cluster/'))).toEqual([]);
  });

  it('a flag replaces the field it corresponds to: --schedule and -n next to the Velero Schedule', async () => {
    const r = await cli([
      ...args(['--schedule', '0 4 * * *', '-n', app]),
      '--dry-run',
      '-o',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { items } = JSON.parse(r.stdout) as { items: k8s.V1CronJob[] };
    const cron = items.find((d) => d.kind === 'CronJob');
    expect(cron?.spec?.schedule).toBe('0 4 * * *');
    expect(cron?.spec?.timeZone).toBe('Europe/Berlin');
    const execArgs = cron?.spec?.jobTemplate.spec?.template.spec?.containers[0]?.args ?? [];
    expect(execArgs.filter((_, i) => execArgs[i - 1] === '--namespace')).toEqual([app]);
  });

  it('a Velero Schedule that does not exist is a clear error', async () => {
    const r = await cli(args().map((a) => (a === ref ? `${veleroNs}/missing` : a)));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: Velero Schedule ${veleroNs}/missing not found\n  list them with: kubectl get schedules.velero.io -A\n`,
    );
  });
});
