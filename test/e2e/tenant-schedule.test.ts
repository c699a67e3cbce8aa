// A namespace admin (RoleBindings to the built-in `admin` ClusterRole, no cluster rights)
// schedules backups of their namespace: the schedule is namespaced-only (Roles, no
// ClusterRole), every schedule verb works with their token, the CronJob's command backs up
// with only the schedule's own token, and a refused create leaves nothing behind.
import * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SnapshotManifest } from '../../src/core/types.js';
import { configMap, create, namespace, type Obj, secret, service } from './fixtures.js';
import { api, uniqueName, until } from './helpers.js';
import {
  namespaceAdmin,
  ownedBy,
  runContainer,
  serviceAccountToken,
  tokenKubeconfig,
} from './service-accounts.js';
import { minioStorage, readSnapshot, type StorageKind } from './storage-kinds.js';

const LABEL = 'kubectl-snapshot/schedule';

describe('schedules of a namespace admin', () => {
  const ns = uniqueName('ts');
  /** Administered too, with a quota that lets no CronJob in: create fails half-way there. */
  const quoted = uniqueName('ts-quota');
  /** Not administered by the tenant. */
  const foreign = uniqueName('ts-foreign');
  const name = 'nightly';
  let storage: StorageKind;
  let as: NodeJS.ProcessEnv;

  const createArgs = (sched: string, namespaces: string[], extra: string[] = []) => [
    'schedule',
    'create',
    sched,
    ...namespaces.flatMap((n) => ['-n', n]),
    '--schedule',
    '0 3 * * *',
    '--image',
    'registry.invalid/kubectl-snapshot:test',
    ...extra,
  ];

  beforeAll(async () => {
    await create([namespace(ns), namespace(quoted), namespace(foreign)]);
    await until('the default ServiceAccounts', async () => {
      const sas = await api(k8s.CoreV1Api).listNamespacedServiceAccount({ namespace: ns });
      return sas.items.some((s) => s.metadata?.name === 'default');
    });
    await create([
      configMap(ns, 'settings', { mode: 'prod' }),
      secret(ns, 'password', { pw: 'hunter2' }),
      service(ns, 'web', { ports: [{ port: 80 }] }),
      {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'no-cronjobs', namespace: quoted },
        spec: { hard: { 'count/cronjobs.batch': '0' } },
      } as Obj,
    ]);
    const kubeconfig = await namespaceAdmin([ns, quoted]);
    storage = minioStorage();
    as = { KUBECONFIG: kubeconfig };
  });

  it('creates a namespaced-only schedule in its namespace: exit 0, Roles and no ClusterRole or ClusterRoleBinding', async () => {
    const r = await storage.cli(createArgs(name, [ns], ['--suspend']), as);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning/i);
    expect(r.stdout).toMatch(/namespaced-only schedule/);
    expect(r.stdout).toContain(`schedule ${name} created in namespace ${ns}`);
    expect(await ownedBy(name, ns)).toEqual(
      [
        `CronJob ${ns}/${name}`,
        `Role ${ns}/kubectl-snapshot:${ns}:${name}`,
        `RoleBinding ${ns}/kubectl-snapshot:${ns}:${name}`,
        `Secret ${ns}/kubectl-snapshot-${name}`,
        `ServiceAccount ${ns}/kubectl-snapshot-${name}`,
      ].sort(),
    );
  });

  it('lists and describes it with namespace rights only', async () => {
    const l = await storage.cli(['schedule', 'list', '--install-namespace', ns], as);
    expect(l.code, l.stdout + l.stderr).toBe(0);
    expect(l.stdout).toContain(name);
    const d = await storage.cli(['schedule', 'describe', name, '--install-namespace', ns], as);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(d.stdout).toContain(name);
  });

  it("the CronJob's command with only the schedule's token backs up the namespace to MinIO: exit 0, Completed, the same namespaced objects as a cluster admin's backup", {
    timeout: 180_000,
  }, async () => {
    const cron = await api(k8s.BatchV1Api).readNamespacedCronJob({ name, namespace: ns });
    const job = {
      metadata: { namespace: ns },
      spec: cron.spec?.jobTemplate.spec,
    } as k8s.V1Job;
    const token = await serviceAccountToken(ns, `kubectl-snapshot-${name}`);
    // The schedule's storage is the tenant's MinIO location; the Secret holds its credentials.
    const r = await runContainer(job, { KUBECONFIG: tokenKubeconfig(token) });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const listed = await storage.cli(['list', '-o', 'json']);
    const made = (JSON.parse(listed.stdout) as SnapshotManifest[]).filter((m) =>
      m.name.startsWith(`${name}-`),
    );
    expect(made).toHaveLength(1);
    const m = made[0] as SnapshotManifest;
    expect(m.phase).toBe('Completed');
    expect(m.warnings).toEqual([]);
    expect(m.labels[LABEL]).toBe(name);

    const byAdmin = uniqueName('ts-admin');
    const a = await storage.cli(['backup', byAdmin, '-n', ns]);
    expect(a.code, a.stderr).toBe(0);
    const inNs = (entries: string[]) =>
      entries.filter((e) => e.includes(`/namespaces/${ns}/`)).sort();
    const mine = await readSnapshot(storage, m.name);
    const theirs = await readSnapshot(storage, byAdmin);
    expect(inNs(mine.entries)).toEqual(inNs(theirs.entries));
    expect(mine.entries).toContain(`resources/namespaces/cluster/${ns}.json`);
    // Cluster-scoped objects beyond the namespace's own are left out, said as info: the
    // tenant's RoleBinding names the `admin` ClusterRole, which the schedule may not read.
    expect(mine.log.filter((l) => l.level === 'warning')).toEqual([]);
    expect(mine.log.some((l) => l.level === 'info' && /clusterrole/i.test(JSON.stringify(l)))).toBe(
      true,
    );
    expect(
      mine.entries.filter((e) => e.includes('/cluster/') && !e.endsWith(`/${ns}.json`)),
    ).toEqual([]);
  });

  it('runs it now, suspends and resumes it with namespace rights only', async () => {
    const run = await storage.cli(['schedule', 'run', name, '--install-namespace', ns], as);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const jobs = await api(k8s.BatchV1Api).listNamespacedJob({
      namespace: ns,
      labelSelector: `${LABEL}=${name}`,
    });
    expect(jobs.items).toHaveLength(1);
    const suspended = async () =>
      (await api(k8s.BatchV1Api).readNamespacedCronJob({ name, namespace: ns })).spec?.suspend;
    const resume = await storage.cli(['schedule', 'resume', name, '--install-namespace', ns], as);
    expect(resume.code, resume.stdout + resume.stderr).toBe(0);
    expect(await suspended()).toBe(false);
    const suspend = await storage.cli(['schedule', 'suspend', name, '--install-namespace', ns], as);
    expect(suspend.code, suspend.stdout + suspend.stderr).toBe(0);
    expect(await suspended()).toBe(true);
  });

  it('deletes it with namespace rights only: nothing with its labels remains', async () => {
    const r = await storage.cli(['schedule', 'delete', name, '--install-namespace', ns], as);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await until('everything with the schedule labels gone', async () => {
      return (await ownedBy(name, ns)).length === 0;
    });
  });

  it('a create that fails half-way (a quota refuses the CronJob) takes back the ServiceAccount, Secret and Roles it made', async () => {
    const r = await storage.cli(createArgs('quota', [quoted]), as);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/applying cronjob\/quota .* failed/);
    expect(r.stderr).toMatch(/nothing was left in the cluster/);
    expect(await ownedBy('quota', quoted)).toEqual([]);
  });

  it('a create naming a namespace it does not administer is refused and leaves nothing behind', async () => {
    const r = await storage.cli(createArgs('bad', [ns, foreign]), as);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`may not read namespace "${foreign}"`));
    expect(await ownedBy('bad', ns)).toEqual([]);
  });
});

describe('a schedule excluding a type the cluster no longer serves (its CRD uninstalled)', () => {
  const ns = uniqueName('ts-gone');
  let storage: StorageKind;

  beforeAll(async () => {
    await create([namespace(ns), configMap(ns, 'settings', { mode: 'prod' })]);
    storage = minioStorage();
  });

  it("is a warning in the schedule's run: the backup goes on, Completed with the warning, exit 0", async () => {
    const r = await storage.cli([
      'schedule',
      'exec',
      'gone',
      '--no-progress',
      '-n',
      ns,
      '--exclude-resources',
      'widgets.example.com',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const listed = await storage.cli(['list', '-o', 'json']);
    const [m] = (JSON.parse(listed.stdout) as SnapshotManifest[]).filter((x) =>
      x.name.startsWith('gone-'),
    );
    // Completed with a warning: `list` shows CompletedWithWarnings.
    expect(m?.phase).toBe('Completed');
    expect(m?.warnings.map((w) => w.message)).toEqual([
      expect.stringContaining(
        '--exclude-resources: the server has no resource type "widgets.example.com"',
      ),
    ]);
    const s = await readSnapshot(storage, m?.name as string);
    expect(s.entries).toContain(`resources/configmaps/namespaces/${ns}/settings.json`);
  });

  it('stays an error on the command line: backup --exclude-resources nosuchtype exits 1', async () => {
    const r = await storage.cli(['backup', '-n', ns, '--exclude-resources', 'nosuchtype']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('--exclude-resources: the server has no resource type "nosuchtype"');
  });
});
