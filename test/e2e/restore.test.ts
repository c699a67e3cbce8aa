// Restore end to end on a real control plane with its controllers: what comes back, what is
// left to the controllers, and what is never touched.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/core/types.js';
import { diffObjects, normalizeForCompare } from '../../src/restore/normalize.js';
import { userKubeconfig } from '../cluster/harness.js';
import {
  clusterRoleBinding,
  configMap,
  crd,
  create,
  cronJob,
  customResource,
  deployment,
  namespace,
  networkPolicy,
  type Obj,
  persistentVolume,
  persistentVolumeClaim,
  roleBinding,
  secret,
  service,
  serviceAccount,
  statefulSet,
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
  results: {
    resource: string;
    kind: string;
    namespace?: string;
    name: string;
    outcome: string;
    message?: string;
  }[];
  totals: Record<string, number>;
}

const api = () => objects();

async function waitGone(o: Obj): Promise<void> {
  await until(
    `${o.kind} ${o.metadata?.name} to be deleted`,
    async () => (await readOptional(o)) === undefined,
    120_000,
    500,
  );
}

async function list(apiVersion: string, kind: string, ns?: string): Promise<Obj[]> {
  const r = await api().list(apiVersion, kind, ns);
  return r.items as Obj[];
}

function restoreJson(stdout: string): Report {
  return JSON.parse(stdout) as Report;
}

/**
 * A copy beside the original in the same cluster cannot have the original's explicitly
 * chosen nodePort: that one Service fails (exit 2) and is named; everything else is created.
 */
function expectOnlyNodePortClash(r: { code: number; stdout: string; stderr: string }): void {
  expect(r.code, r.stderr).toBe(2);
  const failed = restoreJson(r.stdout).results.filter((x) => x.outcome === 'failed');
  expect(failed.map((f) => `${f.kind}/${f.name}`)).toEqual(['Service/edge']);
  expect(failed[0]?.message).toMatch(/already allocated/);
}

/** A namespace with one of everything the issue lists, plus a CRD with custom resources. */
function sampleApp(
  ns: string,
  group: string,
  pv: string,
): { cluster: Obj[]; namespaced: Obj[]; crs: Obj[] } {
  const tls = Buffer.from('not a real certificate').toString('base64');
  return {
    cluster: [
      namespace(ns, { team: 'e2e' }),
      crd(group, 'Widget', 'widgets'),
      persistentVolume(pv, ns, 'data'),
    ],
    namespaced: [
      deployment(ns, 'web', 2),
      deployment(ns, 'api', 1),
      service(ns, 'web'),
      service(ns, 'db', { clusterIP: 'None' }),
      service(ns, 'edge', {
        type: 'NodePort',
        ports: [{ port: 80, targetPort: 8080, nodePort: 30000 + Math.floor(Math.random() * 2000) }],
      }),
      statefulSet(ns, 'db'),
      configMap(ns, 'settings', { 'app.yaml': 'replicas: 2\n' }),
      {
        ...configMap(ns, 'blob', {}),
        binaryData: { 'logo.png': Buffer.from([0, 1, 2, 255]).toString('base64') },
      },
      secret(ns, 'db-password', { password: 's3cr3t-value' }),
      secret(
        ns,
        'registry',
        { '.dockerconfigjson': '{"auths":{}}' },
        'kubernetes.io/dockerconfigjson',
      ),
      {
        ...secret(ns, 'tls', {}, 'kubernetes.io/tls'),
        stringData: undefined,
        data: { 'tls.crt': tls, 'tls.key': tls },
      },
      secret(ns, 'basic', { username: 'u', password: 'p' }, 'kubernetes.io/basic-auth'),
      serviceAccount(ns, 'runner'),
      roleBinding(ns, 'runner-view', 'view', 'runner'),
      persistentVolumeClaim(ns, 'data', pv),
      cronJob(ns, 'nightly'),
      networkPolicy(ns, 'only-web'),
    ],
    crs: [
      customResource(group, 'Widget', ns, 'w1', { size: 3 }),
      customResource(group, 'Widget', ns, 'w2', { size: 5, color: 'blue' }),
    ],
  };
}

async function deploySample(ns: string, group: string, pv: string) {
  const app = sampleApp(ns, group, pv);
  await create(app.cluster);
  await waitEstablished(`widgets.${group}`);
  await create([...app.namespaced, ...app.crs]);
  // Controllers first: ReplicaSets for Deployments, the PVC bound to its PV.
  await until('ReplicaSets', async () => (await list('apps/v1', 'ReplicaSet', ns)).length >= 2);
  await until('the claim to bind', async () => {
    const pvc = await readOptional(persistentVolumeClaim(ns, 'data'));
    return (pvc?.status as { phase?: string } | undefined)?.phase === 'Bound';
  });
  return app;
}

describe('restore', () => {
  const data = tempDir('ks-restore-');
  const env = { XDG_DATA_HOME: data };
  const ns = uniqueName('rt');
  const group = `${ns}.example.com`;
  const pv = `${ns}-pv`;
  let app: ReturnType<typeof sampleApp>;
  let originals: Obj[];

  beforeAll(async () => {
    app = await deploySample(ns, group, pv);
    originals = [];
    for (const o of [...app.cluster, ...app.namespaced, ...app.crs])
      originals.push((await readOptional(o)) as Obj);
    const b = await cli(['backup', 'full', '-n', ns], env);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
  });

  it('brings every restorable object back equal to the original after the namespace and CRD are deleted', async () => {
    await api().delete(namespace(ns));
    await api().delete(crd(group, 'Widget', 'widgets'));
    await waitGone(namespace(ns));
    await waitGone(crd(group, 'Widget', 'widgets'));
    await api().delete(persistentVolume(pv, ns, 'data'));
    await waitGone(persistentVolume(pv, ns, 'data'));

    const r = await cli(['restore', 'full', '-o', 'json'], env);
    expect(r.code, r.stderr).toBe(0);
    const report = restoreJson(r.stdout);
    expect(report.totals.failed).toBe(0);

    for (const original of originals) {
      const now = await until(
        `${original.kind} ${original.metadata?.name} back`,
        () => readOptional(original),
        30_000,
      );
      const diff = diffObjects(
        normalizeForCompare(original as KubeObject),
        normalizeForCompare(now as KubeObject),
      );
      expect(diff, `${original.kind}/${original.metadata?.name}`).toEqual([]);
      expect(now.metadata?.uid).not.toBe(original.metadata?.uid);
    }
  });

  it('leaves ReplicaSets and Pods to the controllers: new ones are owned by the restored Deployments', async () => {
    const r = await cli(['restore', 'full', '-o', 'json'], env);
    const report = restoreJson(r.stdout);
    const rsResults = report.results.filter((x) => x.kind === 'ReplicaSet');
    expect(rsResults.length).toBeGreaterThan(0);
    expect(
      rsResults.every(
        (x) => x.outcome === 'skipped' && /controller Deployment/.test(x.message ?? ''),
      ),
    ).toBe(true);
    const deployments = await list('apps/v1', 'Deployment', ns);
    const replicaSets = await until('ReplicaSets made by the Deployment controller', async () => {
      const rs = await list('apps/v1', 'ReplicaSet', ns);
      return rs.length >= 2 ? rs : undefined;
    });
    const uids = new Set(deployments.map((d) => d.metadata?.uid));
    for (const rs of replicaSets)
      expect(uids.has(rs.metadata?.ownerReferences?.[0]?.uid)).toBe(true);
  });

  it('restored twice creates nothing the second time and reports everything as existing', async () => {
    const r = await cli(['restore', 'full', '-o', 'json'], env);
    expect(r.code).toBe(0);
    const report = restoreJson(r.stdout);
    expect(report.totals.created).toBe(0);
    expect(report.totals.failed).toBe(0);
    expect(report.totals['exists-differs']).toBe(0);
    expect(report.totals['exists-identical']).toBeGreaterThan(15);
  });

  it('leaves a changed ConfigMap changed and reports it as exists (differs)', async () => {
    const cm = (await readOptional(configMap(ns, 'settings'))) as Obj;
    await api().replace({ ...cm, data: { 'app.yaml': 'replicas: 7\n' } });
    const r = await cli(['restore', 'full'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`configmaps/settings -n ${ns}`);
    expect(r.stdout).toMatch(/data\["app\.yaml"\]/);
    const after = (await readOptional(configMap(ns, 'settings'))) as Obj;
    expect((after.data as Record<string, string>)['app.yaml']).toBe('replicas: 7\n');
  });

  it('diff names what a restore would create and which existing objects differ, field by field', async () => {
    await api().delete(configMap(ns, 'blob'));
    await waitGone(configMap(ns, 'blob'));
    const r = await cli(['diff', 'full', '--details'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`configmaps/settings -n ${ns}`);
    expect(r.stdout).toContain(
      'data["app.yaml"]: cluster has "replicas: 7\\n", snapshot has "replicas: 2\\n"',
    );
    const json = restoreJson((await cli(['diff', 'full', '-o', 'json'], env)).stdout);
    const toCreate = json.results
      .filter((x) => x.outcome === 'would-create')
      .map((x) => `${x.kind}/${x.name}`);
    expect(toCreate).toEqual(['ConfigMap/blob']);
    // diff created nothing.
    expect(await readOptional(configMap(ns, 'blob'))).toBeUndefined();
  });

  it('restores a copy beside the original with --namespace-mapping, RoleBinding subjects following', async () => {
    const copy = `${ns}-copy`;
    const before = await list('v1', 'ConfigMap', ns);
    const r = await cli(
      ['restore', 'full', '--namespace-mapping', `${ns}=${copy}`, '-o', 'json'],
      env,
    );
    expectOnlyNodePortClash(r);
    const rb = (await readOptional(roleBinding(copy, 'runner-view', 'view', 'runner'))) as Obj;
    expect((rb.subjects as { namespace: string }[])[0]?.namespace).toBe(copy);
    expect(await readOptional(secret(copy, 'db-password', {}))).toBeDefined();
    expect(await readOptional(deployment(copy, 'web'))).toBeDefined();
    const after = await list('v1', 'ConfigMap', ns);
    expect(after.map((c) => c.metadata?.resourceVersion).sort()).toEqual(
      before.map((c) => c.metadata?.resourceVersion).sort(),
    );
  });

  it('restores from the local default location and from MinIO alike', async () => {
    const prefix = uniqueName('restore-s3');
    const b = await cli(['backup', 'to-s3', '-n', ns, '--storage', s3Url(prefix)]);
    expect(b.code, b.stderr).toBe(0);
    const target = `${ns}-s3`;
    const r = await cli([
      'restore',
      'to-s3',
      '--storage',
      s3Url(prefix),
      '--namespace-mapping',
      `${ns}=${target}`,
      '-o',
      'json',
    ]);
    expectOnlyNodePortClash(r);
    expect(await readOptional(configMap(target, 'settings'))).toBeDefined();
    // The widget CRs came back from the S3 copy too.
    expect((await list(`${group}/v1`, 'Widget', target)).length).toBe(2);
  });

  it('refuses a corrupt archive before creating anything', async () => {
    const archive = join(data, 'kubectl-snapshot', 'snapshots', 'full', 'resources.tar.gz');
    const original = readFileSync(archive);
    const damaged = Buffer.from(original);
    const at = Math.floor(damaged.length / 2);
    damaged.writeUInt8(damaged.readUInt8(at) ^ 0x40, at);
    writeFileSync(archive, damaged);
    try {
      const target = `${ns}-corrupt`;
      const r = await cli(['restore', 'full', '--namespace-mapping', `${ns}=${target}`], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: archive .*corrupt/m);
      expect(await readOptional(namespace(target))).toBeUndefined();
    } finally {
      writeFileSync(archive, original);
    }
  });
});

describe('restore validation and failures', () => {
  const data = tempDir('ks-restore-quota-');
  const env = { XDG_DATA_HOME: data };
  const ns = uniqueName('rq');
  const target = `${ns}-quota`;

  beforeAll(async () => {
    await create([
      namespace(ns),
      configMap(ns, 'a'),
      configMap(ns, 'b'),
      secret(ns, 'forbidden-by-quota', { k: 'v' }),
      serviceAccount(ns, 'sa'),
      clusterRoleBinding(`${ns}-crb`, 'view', 'sa', ns),
    ]);
    expect((await cli(['backup', 'q', '-n', ns], env)).code).toBe(0);
    // The target namespace admits no Secrets: the API server rejects that one create.
    await create([
      namespace(target),
      {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'no-secrets', namespace: target },
        spec: { hard: { secrets: '0' } },
      },
    ]);
    await until('the quota to be counted', async () => {
      const q = await readOptional({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'no-secrets', namespace: target },
      });
      return (q?.status as { used?: unknown } | undefined)?.used !== undefined;
    });
  });

  it('--dry-run=server surfaces the server-side rejection and changes nothing', async () => {
    const r = await cli(
      ['restore', 'q', '--namespace-mapping', `${ns}=${target}`, '--dry-run=server', '-o', 'json'],
      env,
    );
    expect(r.code).toBe(2);
    const report = restoreJson(r.stdout);
    const failed = report.results.filter((x) => x.outcome === 'failed');
    expect(failed.map((f) => f.name)).toEqual(['forbidden-by-quota']);
    expect(failed[0]?.message).toMatch(/exceeded quota/);
    expect(report.totals['would-create']).toBeGreaterThanOrEqual(2);
    expect(await readOptional(configMap(target, 'a'))).toBeUndefined();
  });

  it('creates everything else when the server rejects one object, exits 2 and names it', async () => {
    const r = await cli(['restore', 'q', '--namespace-mapping', `${ns}=${target}`], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/Failed:\n\s+secrets\/forbidden-by-quota -n \S+: .*exceeded quota/);
    expect(await readOptional(configMap(target, 'a'))).toBeDefined();
    expect(await readOptional(configMap(target, 'b'))).toBeDefined();
    expect(await readOptional(serviceAccount(target, 'sa'))).toBeDefined();
  });

  it('--dry-run=client prints the plan without contacting the cluster', async () => {
    const r = await cli(['restore', 'q', '--dry-run=client', '-o', 'json'], {
      ...env,
      KUBECONFIG: '/nonexistent',
    });
    expect(r.code, r.stderr).toBe(0);
    const report = restoreJson(r.stdout);
    expect(
      report.results.filter((x) => x.outcome === 'would-create').map((x) => `${x.kind}/${x.name}`),
    ).toEqual(
      expect.arrayContaining([
        'ConfigMap/a',
        'ConfigMap/b',
        'Secret/forbidden-by-quota',
        `Namespace/${ns}`,
      ]),
    );
  });

  it('rejects bad restore flags with a clear error and exit code 1', async () => {
    const cases: [string[], RegExp][] = [
      [['restore', 'q', '--namespace-mapping', 'nope'], /invalid namespace mapping "nope"/],
      [['restore', 'q', '--dry-run=maybe'], /--dry-run must be client or server/],
      [['restore', 'q', '-l', 'a in (b'], /invalid label selector/],
      [['restore', 'does-not-exist'], /snapshot "does-not-exist" .*not found/],
      [['restore', 'Bad_Name'], /invalid snapshot name/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args, env);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});

describe('diff of objects it may list but not read', () => {
  const data = tempDir('ks-diff-denied-');
  const env = { XDG_DATA_HOME: data };
  const ns = uniqueName('dd');
  const user = uniqueName('no-get');
  const RBAC = 'rbac.authorization.k8s.io';
  let kubeconfig: string;

  beforeAll(async () => {
    await create([namespace(ns), configMap(ns, 'changed'), configMap(ns, 'same')]);
    expect((await cli(['backup', 'd', '-n', ns], env)).code).toBe(0);
    const cm = (await readOptional(configMap(ns, 'changed'))) as Obj;
    await api().replace({ ...cm, data: { key: 'changed since the backup' } });
    // The user may list ConfigMaps, so diff sees that one differs, but not get it to compare.
    await create([
      {
        apiVersion: `${RBAC}/v1`,
        kind: 'ClusterRole',
        metadata: { name: `${user}-namespaces` },
        rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] }],
      },
      {
        apiVersion: `${RBAC}/v1`,
        kind: 'ClusterRoleBinding',
        metadata: { name: `${user}-namespaces` },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: `${user}-namespaces` },
        subjects: [{ apiGroup: RBAC, kind: 'User', name: user }],
      },
      {
        apiVersion: `${RBAC}/v1`,
        kind: 'Role',
        metadata: { name: 'list-only', namespace: ns },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }],
      },
      {
        apiVersion: `${RBAC}/v1`,
        kind: 'RoleBinding',
        metadata: { name: 'list-only', namespace: ns },
        roleRef: { apiGroup: RBAC, kind: 'Role', name: 'list-only' },
        subjects: [{ apiGroup: RBAC, kind: 'User', name: user }],
      },
    ]);
    kubeconfig = userKubeconfig(cluster(), user);
    // RBAC caches settle quickly but asynchronously: wait until both bindings are in force.
    await until('the bindings to apply', async () => {
      await objects(kubeconfig).list('v1', 'ConfigMap', ns);
      await objects(kubeconfig).read(namespace(ns) as never);
      return true;
    });
  });

  it('prints the report naming the object it could not compare, then exits 2', async () => {
    const r = await cli(['diff', 'd'], { ...env, KUBECONFIG: kubeconfig });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(new RegExp(`Failed:\\n\\s+configmaps/changed -n ${ns}: .*forbidden`));
    expect(r.stderr).toBe('error: 1 object(s) failed; see the report above\n');

    const json = await cli(['diff', 'd', '-o', 'json'], { ...env, KUBECONFIG: kubeconfig });
    expect(json.code, json.stderr).toBe(2);
    const report = restoreJson(json.stdout);
    expect(report.results.filter((x) => x.outcome === 'failed').map((x) => x.name)).toEqual([
      'changed',
    ]);
    expect(report.results.find((x) => x.name === 'same')?.outcome).toBe('exists-identical');
    // diff changed nothing.
    const cm = (await readOptional(configMap(ns, 'changed'))) as Obj;
    expect(cm.data).toEqual({ key: 'changed since the backup' });
  });
});
