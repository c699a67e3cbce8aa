// Velero interoperability end to end: the real Velero v1.17.2 server (out of cluster, its AWS
// plugin against the harness's MinIO) backs up a namespace with a CRD and custom resources,
// and we read that backup through `?layout=velero`: list, describe, verify, diff, restore.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/core/types.js';
import { diffObjects, normalizeForCompare } from '../../src/restore/normalize.js';
import { buildVeleroBinaries, startVelero, type Velero } from '../cluster/velero.js';
import {
  configMap,
  crd,
  create,
  customResource,
  deployment,
  namespace,
  type Obj,
  secret,
  service,
  serviceAccount,
  waitEstablished,
} from './fixtures.js';
import {
  cli,
  cluster,
  objects,
  readOptional,
  s3Url,
  tempDir,
  uniqueName,
  until,
} from './helpers.js';

interface Report {
  results: { kind: string; namespace?: string; name: string; outcome: string }[];
  totals: Record<string, number>;
}

const api = () => objects();

/** The same object in another namespace (for reading a mapped copy). */
const inNamespace = (o: Obj, ns: string): Obj => ({
  ...o,
  metadata: { ...o.metadata, namespace: ns },
});

describe('a Velero backup, read through ?layout=velero', () => {
  const ns = uniqueName('vl');
  const group = `${ns}.example.com`;
  const prefix = uniqueName('velero-bsl');
  const storage = `${s3Url(prefix)}&layout=velero`;
  const backup = `${ns}-b1`;
  let velero: Velero | undefined;
  const app: Obj[] = [
    configMap(ns, 'settings', { 'app.yaml': 'replicas: 2\n' }),
    secret(ns, 'db-password', { password: 's3cr3t-value' }),
    serviceAccount(ns, 'runner'),
    deployment(ns, 'web', 1),
    service(ns, 'web'),
    customResource(group, 'Widget', ns, 'w1', { size: 3 }),
    customResource(group, 'Widget', ns, 'w2', { size: 5, color: 'blue' }),
  ];
  let originals: Obj[] = [];

  beforeAll(async () => {
    // Before Velero starts: it reads discovery once, then every 5 minutes, and would not see
    // a CRD made after it (its backup would leave the custom resources out).
    await create([namespace(ns, { team: 'e2e' }), crd(group, 'Widget', 'widgets')]);
    await waitEstablished(`widgets.${group}`);
    const c = cluster();
    const binaries = buildVeleroBinaries((l) => console.error(`[velero] ${l}`));
    velero = await startVelero({
      kubeconfig: c.kubeconfig,
      kubectl: `${c.binDir}/kubectl`,
      s3: { ...c.s3 },
      workDir: tempDir('ks-velero-'),
      binaries,
      prefix,
      log: (l) => console.error(`[velero] ${l}`),
    });
    await create(app);
    originals = [];
    for (const o of app) originals.push((await readOptional(o)) as Obj);
    const r = await velero.veleroBackup([ns], backup);
    expect(r.phase, `velero backup: see ${velero.logFile}`).toBe('Completed');
  }, 600_000);

  afterAll(async () => {
    await velero?.stop();
  });

  it('lists the backup as Completed and describes its types, CRD and custom resources included', async () => {
    const l = await cli(['list', '--storage', storage]);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toMatch(new RegExp(`^${backup}\\s+Completed\\s`, 'm'));

    const d = await cli(['describe', backup, '--storage', storage, '-o', 'json']);
    expect(d.code, d.stderr).toBe(0);
    const m = JSON.parse(d.stdout) as {
      namespaces: string[];
      resources: { resource: string; kind: string; count: number }[];
      velero: { phase: string; preferredVersions: boolean };
    };
    expect(m.namespaces).toEqual([ns]);
    expect(m.velero).toMatchObject({ phase: 'Completed', preferredVersions: true });
    const count = (r: string) => m.resources.find((x) => x.resource === r)?.count;
    expect(count(`widgets.${group}`)).toBe(2);
    expect(count('customresourcedefinitions.apiextensions.k8s.io')).toBe(1);
    expect(count('configmaps')).toBeGreaterThanOrEqual(1);
    expect(count('deployments.apps')).toBe(1);
    expect(m.resources.some((r) => r.resource === 'events')).toBe(false);
  });

  it('verifies every object against the resource list and says Velero records no checksum', async () => {
    const v = await cli(['verify', backup, '--storage', storage]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/is intact: \d+ objects.*Velero records no checksum/);
  });

  it('diffs as identical against the live namespace it was taken from', async () => {
    const r = await cli(['diff', backup, '--storage', storage, '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    // Skipped: what the controllers own (Pods, ReplicaSets, Endpoints), as in any restore.
    const notIdentical = report.results.filter(
      (x) => x.outcome !== 'exists-identical' && x.outcome !== 'skipped',
    );
    expect(notIdentical).toEqual([]);
    expect(report.totals['exists-identical']).toBeGreaterThanOrEqual(app.length);
  });

  it('validates a restore with --dry-run=server into a mapped namespace, and nothing persists', async () => {
    const copy = `${ns}-dry`;
    await create([namespace(copy)]);
    const r = await cli([
      'restore',
      backup,
      '--storage',
      storage,
      '--namespace-mapping',
      `${ns}=${copy}`,
      '--dry-run=server',
      '-o',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.totals.failed).toBe(0);
    const widget = report.results.find((x) => x.kind === 'Widget' && x.name === 'w1');
    expect(widget).toMatchObject({ namespace: copy, outcome: 'would-create' });
    expect(await readOptional(inNamespace(app[0] as Obj, copy))).toBeUndefined();
  });

  it('plans a selective restore with --dry-run=client without the cluster', async () => {
    const r = await cli([
      'restore',
      backup,
      '--storage',
      storage,
      '--include-resources',
      'widgets',
      '-l',
      'app!=none',
      '--dry-run=client',
      '-o',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const planned = (JSON.parse(r.stdout) as Report).results
      .filter((x) => x.outcome === 'would-create')
      .map((x) => `${x.kind}/${x.name}`);
    // The Namespace object and the widgets' CRD come with them (auto), as for our snapshots.
    expect(planned.sort()).toEqual(
      [
        `CustomResourceDefinition/widgets.${ns}.example.com`,
        `Namespace/${ns}`,
        'Widget/w1',
        'Widget/w2',
      ].sort(),
    );
  });

  it('restores a deleted namespace and its deleted CRD so that every object matches its original', async () => {
    await api().delete(namespace(ns));
    await until(
      'the namespace to be deleted',
      async () => !(await readOptional(namespace(ns))),
      120_000,
    );
    await api().delete(crd(group, 'Widget', 'widgets'));
    await until(
      'the CRD to be deleted',
      async () => !(await readOptional(crd(group, 'Widget', 'widgets'))),
    );

    const r = await cli(['restore', backup, '--storage', storage, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Report).totals.failed).toBe(0);
    for (const original of originals) {
      const now = await until(`${original.kind} ${original.metadata?.name}`, () =>
        readOptional(original),
      );
      expect(
        diffObjects(
          normalizeForCompare(original as KubeObject),
          normalizeForCompare(now as KubeObject),
        ),
        `${original.kind}/${original.metadata?.name}`,
      ).toEqual([]);
      // As Velero's restore does: what it created names the backup it came from.
      expect(now.metadata?.labels?.['velero.io/backup-name']).toBe(backup);
    }
  });

  it('restores into another namespace with --namespace-mapping', async () => {
    const copy = `${ns}-copy`;
    const r = await cli([
      'restore',
      backup,
      '--storage',
      storage,
      '--namespace-mapping',
      `${ns}=${copy}`,
      '-o',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    for (const original of originals) {
      const now = await until(`${original.kind} ${original.metadata?.name} in ${copy}`, () =>
        readOptional(inNamespace(original, copy)),
      );
      const want = normalizeForCompare(inNamespace(original, copy) as KubeObject);
      expect(diffObjects(want, normalizeForCompare(now as KubeObject))).toEqual([]);
    }
  });

  it('refuses to delete in a Velero location, or to write our format there', async () => {
    const d = await cli(['delete', backup, '--storage', storage]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/Velero owns its files/);
    const b = await cli([
      'backup',
      `${ns}-ours`,
      '-n',
      ns,
      '--format',
      'snapshot',
      '--storage',
      storage,
    ]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/holds only backups in Velero format/);
  });
});
