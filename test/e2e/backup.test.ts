// `kubectl snapshot backup` end to end: the real CLI process against the real control plane,
// writing to a real directory and to MinIO; archives are read back with our own reader.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { userKubeconfig } from '../cluster/harness.js';
import {
  clusterRole,
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
import { api, cli, cluster, objects, uniqueName, until } from './helpers.js';
import {
  clusterPath,
  directoryStorage,
  expectCleanError,
  nsPath,
  pathsOf,
  type ReadSnapshot,
  readSnapshot,
  type StorageKind,
  storageKinds,
} from './storage-kinds.js';

const RBAC = 'rbac.authorization.k8s.io';

/** Creates many objects, `concurrency` requests at a time. */
async function createParallel(items: Obj[], concurrency = 16): Promise<void> {
  const client = objects();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++] as Obj;
        await client.create(item);
      }
    }),
  );
}

/**
 * fixtures.crd with its open `spec` schema intact: client-node's serializer drops the raw
 * `x-kubernetes-preserve-unknown-fields` key (it only knows the property by its TypeScript
 * name), which would make the API server prune every field of the custom resources' spec.
 */
function preservingCrd(group: string, kind: string, plural: string): Obj {
  const def = crd(group, kind, plural);
  const versions = (
    def.spec as {
      versions: {
        schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } };
      }[];
    }
  ).versions;
  for (const v of versions)
    v.schema.openAPIV3Schema.properties.spec.x_kubernetes_preserve_unknown_fields = true;
  return def;
}

/** Names of the objects of one type in a namespace, as the API server lists them now. */
async function listNames(apiVersion: string, kind: string, ns: string): Promise<string[]> {
  const list = await objects().list(apiVersion, kind, ns);
  return list.items.map((o) => o.metadata?.name as string).sort();
}

/** Waits for what the controllers add to a fresh namespace, so listings are stable. */
async function settled(ns: string): Promise<void> {
  await until(`kube-root-ca.crt and the default ServiceAccount in ${ns}`, async () => {
    const cms = await listNames('v1', 'ConfigMap', ns);
    const sas = await listNames('v1', 'ServiceAccount', ns);
    return cms.includes('kube-root-ca.crt') && sas.includes('default');
  });
}

/** Runs a backup that must succeed and reads the snapshot back. */
async function backupOk(storage: StorageKind, args: string[]): Promise<ReadSnapshot> {
  const r = await storage.cli(['backup', ...args, '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  const printed = JSON.parse(r.stdout) as { name: string };
  const snap = await readSnapshot(storage, printed.name);
  // -o json prints exactly what was stored as snapshot.json.
  expect(printed).toEqual(snap.manifest);
  return snap;
}

/** Paths of entries in namespace `ns` (any resource). */
const inNamespace = (s: ReadSnapshot, ns: string) =>
  [...s.objects.keys()].filter(
    (p) => /^resources\/[^/]+\/namespaces\//.test(p) && p.includes(`/namespaces/${ns}/`),
  );
/** Resources (qualified) that have at least one entry. */
const resourcesIn = (s: ReadSnapshot) => [...s.counts.keys()].sort();

/** The invariants every snapshot keeps, whatever was selected. */
function expectConsistent(s: ReadSnapshot): void {
  // Each entry exactly once, the Velero version file first.
  expect(s.entries[0]).toBe('metadata/version');
  expect(new Set(s.entries).size).toBe(s.entries.length);
  // snapshot.json's counts are the archive's counts.
  expect(Object.fromEntries(s.manifest.resources.map((r) => [r.resource, r.count]))).toEqual(
    Object.fromEntries(s.counts),
  );
  expect(s.manifest.totalObjects).toBe(s.objects.size);
  expect(s.manifest.archive.sha256).toBe(s.archive.sha256);
  expect(s.manifest.archive.size).toBe(s.archive.size);
  // Every object is whole (apiVersion and kind, as served) and sits at its own path.
  for (const [path, obj] of s.objects) {
    const r = s.manifest.resources.find((x) => path.startsWith(`resources/${x.resource}/`));
    expect(r, path).toBeDefined();
    expect(obj.apiVersion, path).toBe(r?.apiVersion);
    expect(obj.kind, path).toBe(r?.kind);
    const expected = r?.namespaced
      ? nsPath(r.resource, obj.metadata.namespace as string, obj.metadata.name)
      : clusterPath(r?.resource as string, obj.metadata.name);
    expect(path).toBe(expected);
  }
}

describe('backup of a namespace with built-ins, custom resources and cluster dependencies', () => {
  const ns = uniqueName('bk');
  const other = uniqueName('bk-other');
  const group = `${uniqueName('g')}.example.com`;
  const widgets = `widgets.${group}`;
  const gadgets = `gadgets.${group}`;
  const pv = `pv-${ns}`;
  const unrelatedPv = `pv-unrelated-${ns}`;
  const role = `role-${ns}`;
  const binding = `crb-${ns}`;
  const unrelatedRole = `role-unrelated-${ns}`;
  const unrelatedBinding = `crb-unrelated-${ns}`;

  beforeAll(async () => {
    await create([
      namespace(ns),
      namespace(other),
      preservingCrd(group, 'Widget', 'widgets'),
      preservingCrd(group, 'Gadget', 'gadgets'),
    ]);
    await waitEstablished(widgets);
    await waitEstablished(gadgets);
    await create([
      configMap(ns, 'app-config', { greeting: 'hello' }),
      secret(ns, 'app-secret', { password: 's3cr3t' }),
      serviceAccount(ns, 'app-sa'),
      roleBinding(ns, 'app-rb', 'view', 'app-sa'),
      deployment(ns, 'web'),
      statefulSet(ns, 'db'),
      service(ns, 'web'),
      cronJob(ns, 'nightly'),
      networkPolicy(ns, 'deny'),
      persistentVolume(pv, ns, 'data'),
      persistentVolumeClaim(ns, 'data', pv),
      customResource(group, 'Widget', ns, 'w1', { size: 3 }),
      clusterRole(role),
      clusterRoleBinding(binding, role, 'app-sa', ns),
      // Unrelated: another namespace's objects and cluster objects nothing in `ns` uses.
      configMap(other, 'other-config'),
      serviceAccount(other, 'other-sa'),
      customResource(group, 'Gadget', other, 'g1'),
      persistentVolume(unrelatedPv, other, 'claim'),
      clusterRole(unrelatedRole),
      clusterRoleBinding(unrelatedBinding, unrelatedRole, 'other-sa', other),
    ]);
    await settled(ns);
  });

  describe.each(storageKinds)('to %s', (_label, makeStorage) => {
    let storage: StorageKind;
    let snap: ReadSnapshot;
    const name = uniqueName('full');

    beforeAll(async () => {
      storage = makeStorage();
      const r = await storage.cli(['backup', name, '-n', ns]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Snapshot ${name} completed`);
      snap = await readSnapshot(storage, name);
    });

    it('writes exactly the archive, the log and snapshot.json at the documented keys', async () => {
      expect(await storage.allKeys()).toEqual([
        `snapshots/${name}/log.jsonl.gz`,
        `snapshots/${name}/resources.tar.gz`,
        `snapshots/${name}/snapshot.json`,
      ]);
    });

    it('stores every object once at its Velero-layout path, with counts matching snapshot.json', () => {
      expectConsistent(snap);
      for (const path of [
        nsPath('configmaps', ns, 'app-config'),
        nsPath('secrets', ns, 'app-secret'),
        nsPath('serviceaccounts', ns, 'app-sa'),
        nsPath(`rolebindings.${RBAC}`, ns, 'app-rb'),
        nsPath('deployments.apps', ns, 'web'),
        nsPath('statefulsets.apps', ns, 'db'),
        nsPath('services', ns, 'web'),
        nsPath('cronjobs.batch', ns, 'nightly'),
        nsPath('networkpolicies.networking.k8s.io', ns, 'deny'),
        nsPath('persistentvolumeclaims', ns, 'data'),
        nsPath(widgets, ns, 'w1'),
      ]) {
        expect(
          snap.entries.filter((e) => e === path),
          path,
        ).toHaveLength(1);
      }
      const cm = snap.objects.get(nsPath('configmaps', ns, 'app-config'));
      expect(cm).toMatchObject({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        data: { greeting: 'hello' },
      });
      const s = snap.objects.get(nsPath('secrets', ns, 'app-secret'));
      expect(s).toMatchObject({ data: { password: Buffer.from('s3cr3t').toString('base64') } });
      const w = snap.objects.get(nsPath(widgets, ns, 'w1'));
      expect(w).toMatchObject({ apiVersion: `${group}/v1`, kind: 'Widget', spec: { size: 3 } });
      expect(snap.manifest).toMatchObject({
        name,
        namespaces: [ns],
        warnings: [],
        selection: { namespaces: [ns], allNamespaces: false, includeClusterResources: 'auto' },
        archive: { key: `snapshots/${name}/resources.tar.gz`, encrypted: false },
        cluster: { server: cluster().server },
      });
      expect(snap.manifest.cluster.version).toMatch(/^v1\.\d+\.\d+/);
    });

    it('holds the same set of objects the API server lists, for every stable type', async () => {
      const types: [string, string, string][] = [
        ['configmaps', 'v1', 'ConfigMap'],
        ['secrets', 'v1', 'Secret'],
        ['serviceaccounts', 'v1', 'ServiceAccount'],
        ['services', 'v1', 'Service'],
        ['persistentvolumeclaims', 'v1', 'PersistentVolumeClaim'],
        ['deployments.apps', 'apps/v1', 'Deployment'],
        ['statefulsets.apps', 'apps/v1', 'StatefulSet'],
        ['cronjobs.batch', 'batch/v1', 'CronJob'],
        [`rolebindings.${RBAC}`, `${RBAC}/v1`, 'RoleBinding'],
        [widgets, `${group}/v1`, 'Widget'],
      ];
      for (const [resource, apiVersion, kind] of types) {
        const listed = (await listNames(apiVersion, kind, ns)).map((n) => nsPath(resource, ns, n));
        expect(pathsOf(snap, resource), resource).toEqual(listed.sort());
      }
    });

    it('brings the Namespace, the CRD, the bound PV, the ClusterRoleBinding of an included ServiceAccount with its ClusterRole, the ClusterRole a RoleBinding names with what it aggregates, and nothing else cluster-scoped', () => {
      const clusterEntries = [...snap.objects.keys()].filter((p) => p.includes('/cluster/')).sort();
      expect(clusterEntries).toEqual(
        [
          clusterPath('namespaces', ns),
          clusterPath('customresourcedefinitions.apiextensions.k8s.io', widgets),
          clusterPath('persistentvolumes', pv),
          clusterPath(`clusterrolebindings.${RBAC}`, binding),
          clusterPath(`clusterroles.${RBAC}`, role),
          // The RoleBinding app-rb names the aggregated ClusterRole view, which aggregates
          // system:aggregate-to-view (and, here, no other ClusterRole).
          clusterPath(`clusterroles.${RBAC}`, 'view'),
          clusterPath(`clusterroles.${RBAC}`, 'system:aggregate-to-view'),
        ].sort(),
      );
      // Unrelated objects, named explicitly: another namespace, the CRD without objects here,
      // the PV of another claim, the ClusterRole(Binding) of another namespace's account.
      for (const absent of [
        clusterPath('namespaces', other),
        clusterPath('customresourcedefinitions.apiextensions.k8s.io', gadgets),
        clusterPath('persistentvolumes', unrelatedPv),
        clusterPath(`clusterroles.${RBAC}`, unrelatedRole),
        clusterPath(`clusterrolebindings.${RBAC}`, unrelatedBinding),
      ]) {
        expect(snap.objects.has(absent), absent).toBe(false);
      }
      expect(inNamespace(snap, other)).toEqual([]);
      const namespaces = new Set(
        [...snap.objects.keys()].flatMap(
          (p) => /^resources\/[^/]+\/namespaces\/([^/]+)\//.exec(p)?.[1] ?? [],
        ),
      );
      expect([...namespaces]).toEqual([ns]);
    });

    it('logs each listed resource and its count', () => {
      const listed = snap.log.filter((l) => l.msg === 'listed' && l.namespace === ns);
      const cms = listed.find((l) => l.resource === 'configmaps');
      expect(cms?.count).toBe(snap.counts.get('configmaps'));
    });

    it('shows the snapshot in list, describe and verify', async () => {
      const list = await storage.cli(['list', '-o', 'json']);
      expect(list.code, list.stderr).toBe(0);
      const listed = JSON.parse(list.stdout) as { name: string; totalObjects: number }[];
      expect(listed.map((m) => [m.name, m.totalObjects])).toEqual([[name, snap.objects.size]]);
      const table = await storage.cli(['list']);
      expect(table.stdout).toMatch(
        new RegExp(`^${name}\\s+Completed\\s+.*\\s${ns}\\s+${snap.objects.size}\\s`, 'm'),
      );
      const described = await storage.cli(['describe', name]);
      expect(described.code, described.stderr).toBe(0);
      expect(described.stdout).toMatch(
        new RegExp(`^${widgets.replace(/\./g, '\\.')}\\s+${group}/v1\\s+1\\s*$`, 'm'),
      );
      const verified = await storage.cli(['verify', name]);
      expect(verified.code, verified.stderr).toBe(0);
      expect(verified.stdout).toContain('intact');
    });
  });
});

describe('selection flags', () => {
  const a = uniqueName('sel-a');
  const b = uniqueName('sel-b');
  let storage: StorageKind;

  beforeAll(async () => {
    storage = directoryStorage();
    await create([namespace(a), namespace(b)]);
    await create([
      configMap(a, 'web-config', { k: 'v' }, { tier: 'web' }),
      configMap(a, 'db-config', { k: 'v' }, { tier: 'db' }),
      configMap(a, 'plain-config'),
      secret(a, 'plain-secret', { k: 'v' }),
      deployment(a, 'web', 1, { tier: 'web' }),
      serviceAccount(a, 'robot'),
      configMap(b, 'b-config', { k: 'v' }, { tier: 'web' }),
      secret(b, 'b-secret', { k: 'v' }),
    ]);
    await settled(a);
    await settled(b);
  });

  it('-n NS -n NS takes exactly the named namespaces', async () => {
    const s = await backupOk(storage, [uniqueName('two'), '-n', a, '-n', b]);
    expectConsistent(s);
    expect(s.manifest.namespaces).toEqual([a, b].sort());
    expect(s.objects.has(nsPath('configmaps', a, 'web-config'))).toBe(true);
    expect(s.objects.has(nsPath('secrets', b, 'b-secret'))).toBe(true);
    expect(s.objects.has(clusterPath('namespaces', a))).toBe(true);
    expect(s.objects.has(clusterPath('namespaces', b))).toBe(true);
    expect(inNamespace(s, 'kube-system')).toEqual([]);
  });

  it('keeps the last value of a single-valued flag given twice, as kubectl does', async () => {
    const first = directoryStorage();
    const name = uniqueName('last');
    const r = await cli(['backup', name, '-n', a, ...first.args, ...storage.args], storage.env);
    expect(r.code, r.stderr).toBe(0);
    expect((await storage.cli(['list', '-o', 'json'])).stdout).toContain(`"${name}"`);
    expect(await first.allKeys()).toEqual([]);
  });

  it('completes, without a stack trace, when the reader of its output has gone away', async () => {
    const name = uniqueName('piped');
    const { kubeconfig } = cluster();
    const root = join(import.meta.dirname, '..', '..');
    const child = spawn(
      join(root, 'bin', 'kubectl-snapshot'),
      ['backup', name, '-n', a, '-o', 'json', ...storage.args],
      { env: { ...process.env, ...storage.env, KUBECONFIG: kubeconfig } },
    );
    // As `kubectl snapshot backup … | head -0` would: the pipe is closed before any output.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
    expect(code).toBe(0);
    const listed = await storage.cli(['list', '-o', 'json']);
    expect(listed.stdout).toContain(`"${name}"`);
  });

  it('-A takes every namespace, and --exclude-namespace leaves one out entirely', async () => {
    const all = await backupOk(storage, [
      uniqueName('all'),
      '-A',
      '--include-resources',
      'configmaps,namespaces',
    ]);
    expectConsistent(all);
    expect(all.manifest.selection.allNamespaces).toBe(true);
    for (const n of [a, b, 'kube-system', 'default']) {
      expect(all.manifest.namespaces).toContain(n);
      expect(all.objects.has(clusterPath('namespaces', n)), n).toBe(true);
    }
    expect(all.objects.has(nsPath('configmaps', b, 'b-config'))).toBe(true);
    expect(inNamespace(all, 'kube-system').length).toBeGreaterThan(0);

    const some = await backupOk(storage, [
      uniqueName('all-but'),
      '-A',
      '--exclude-namespace',
      b,
      '--include-resources',
      'configmaps,namespaces',
    ]);
    expectConsistent(some);
    expect(some.manifest.namespaces).not.toContain(b);
    expect(some.manifest.namespaces).toContain(a);
    expect(inNamespace(some, b)).toEqual([]);
    expect(some.objects.has(clusterPath('namespaces', b))).toBe(false);
    expect(some.objects.has(nsPath('configmaps', a, 'web-config'))).toBe(true);
    expect(inNamespace(some, 'kube-system').length).toBeGreaterThan(0);
  });

  it('--exclude-namespace also removes a namespace named with -n', async () => {
    const s = await backupOk(storage, [
      uniqueName('excl'),
      '-n',
      `${a},${b}`,
      '--exclude-namespace',
      b,
    ]);
    expect(s.manifest.namespaces).toEqual([a]);
    expect(inNamespace(s, b)).toEqual([]);
  });

  it('-l keeps only namespaced objects whose labels match, in kubectl selector syntax', async () => {
    const web = await backupOk(storage, [uniqueName('web'), '-n', a, '-l', 'tier=web']);
    expectConsistent(web);
    expect(inNamespace(web, a).sort()).toEqual(
      [nsPath('configmaps', a, 'web-config'), nsPath('deployments.apps', a, 'web')].sort(),
    );
    // Cluster-scoped objects are not filtered by the selector: the Namespace still comes along.
    expect(web.objects.has(clusterPath('namespaces', a))).toBe(true);
    expect(web.manifest.selection.labelSelector).toBe('tier=web');

    const set = await backupOk(storage, [
      uniqueName('set'),
      '-n',
      a,
      '-l',
      'tier in (db,cache)',
      '--include-resources',
      'configmaps',
    ]);
    expect(inNamespace(set, a)).toEqual([nsPath('configmaps', a, 'db-config')]);
  });

  it('--include-resources takes only the named types, by plural, short name or kind', async () => {
    const s = await backupOk(storage, [
      uniqueName('inc'),
      '-n',
      a,
      '--include-resources',
      'cm,Deployment',
    ]);
    expectConsistent(s);
    // The Namespace object comes along: auto adds it whatever --include-resources names.
    expect(resourcesIn(s)).toEqual(['configmaps', 'deployments.apps', 'namespaces']);
    expect(pathsOf(s, 'configmaps')).toEqual(
      ['db-config', 'kube-root-ca.crt', 'plain-config', 'web-config'].map((n) =>
        nsPath('configmaps', a, n),
      ),
    );
  });

  it('--exclude-resources leaves the named types out and keeps the rest', async () => {
    const s = await backupOk(storage, [
      uniqueName('exc'),
      '-n',
      a,
      '--exclude-resources',
      'secrets',
      '--exclude-resources',
      'ConfigMap',
    ]);
    expectConsistent(s);
    expect(resourcesIn(s)).not.toContain('secrets');
    expect(resourcesIn(s)).not.toContain('configmaps');
    expect(s.objects.has(nsPath('deployments.apps', a, 'web'))).toBe(true);
    expect(s.objects.has(nsPath('serviceaccounts', a, 'robot'))).toBe(true);
    expect(s.manifest.selection.excludeResources).toEqual(['secrets', 'ConfigMap']);
  });

  it('--include-cluster-resources=false takes no cluster-scoped object; =true takes all the user made, none the control plane made', async () => {
    const none = await backupOk(storage, [
      uniqueName('nocl'),
      '-n',
      a,
      '--include-cluster-resources=false',
    ]);
    expectConsistent(none);
    expect([...none.objects.keys()].filter((p) => p.includes('/cluster/'))).toEqual([]);
    expect(none.objects.has(nsPath('configmaps', a, 'web-config'))).toBe(true);

    const userRole = uniqueName('users-role');
    await create([clusterRole(userRole)]);
    const every = await backupOk(storage, [
      uniqueName('allcl'),
      '-n',
      a,
      '--include-cluster-resources=true',
    ]);
    expectConsistent(every);
    // Unrelated cluster objects too: another namespace, a ClusterRole nothing here binds.
    expect(every.objects.has(clusterPath('namespaces', b))).toBe(true);
    expect(every.objects.has(clusterPath(`clusterroles.${RBAC}`, userRole))).toBe(true);
    // …but still only the selected namespaces' namespaced objects.
    expect(inNamespace(every, b)).toEqual([]);
    // What the control plane made for itself stays out, each named in the log with its reason:
    // bootstrap RBAC, the aggregator's APIServices, the default Service's IP allocation.
    const paths = [...every.objects.keys()];
    expect(every.objects.has(clusterPath(`clusterroles.${RBAC}`, 'cluster-admin'))).toBe(false);
    expect(every.objects.has(clusterPath(`clusterroles.${RBAC}`, 'admin'))).toBe(false);
    expect(paths.filter((p) => p.includes('/apiservices.apiregistration.k8s.io/'))).toEqual([]);
    expect(paths.filter((p) => p.includes('/ipaddresses.networking.k8s.io/'))).toEqual([]);
    const leftOut = every.log.map((l) => String(l.msg)).filter((m) => m.includes('control plane'));
    expect(leftOut).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/bootstrap RBAC.*\badmin\b/),
        expect.stringMatching(/automanaged APIService.*v1\.apps/),
        expect.stringMatching(/Service IP allocation/),
      ]),
    );
  });

  it('an unknown resource type is an error, not an empty backup', async () => {
    const fresh = directoryStorage();
    const r = await fresh.cli([
      'backup',
      uniqueName('typo'),
      '-n',
      a,
      '--include-resources',
      'configmapz',
    ]);
    expectCleanError(r, /--include-resources: the server has no resource type "configmapz"/);
    expect(await fresh.allKeys()).toEqual([]);
  });

  it('records --ttl and --labels, and names the snapshot <namespace>-<UTC timestamp> by default', async () => {
    const s = await backupOk(storage, [
      '-n',
      a,
      '--ttl',
      '36h',
      '--labels',
      'team=payments,env=prod',
    ]);
    expect(s.manifest.name).toMatch(new RegExp(`^${a}-\\d{8}-\\d{6}$`));
    expect(s.manifest.labels).toEqual({ team: 'payments', env: 'prod' });
    const ttl = Date.parse(s.manifest.expiresAt as string) - Date.parse(s.manifest.startedAt);
    expect(ttl).toBe(36 * 3600 * 1000);
  });
});

describe('pagination', () => {
  const ns = uniqueName('page');
  // The client lists 500 objects per page: 1,234 ConfigMaps need three pages.
  const COUNT = 1234;
  const names = Array.from({ length: COUNT }, (_, i) => `cm-${String(i).padStart(4, '0')}`);

  beforeAll(async () => {
    await create([namespace(ns)]);
    await createParallel(names.map((n) => configMap(ns, n, { index: n })));
    await settled(ns);
  }, 600_000);

  describe.each(storageKinds)('to %s', (_label, makeStorage) => {
    it('follows the continue token: every one of more than 500 ConfigMaps is in the snapshot once', async () => {
      const storage = makeStorage();
      const s = await backupOk(storage, [
        uniqueName('pages'),
        '-n',
        ns,
        '--include-resources',
        'configmaps',
      ]);
      expectConsistent(s);
      const expected = [...names, 'kube-root-ca.crt']
        .map((n) => nsPath('configmaps', ns, n))
        .sort();
      expect(pathsOf(s, 'configmaps')).toEqual(expected);
      // …and the Namespace object, which auto adds whatever --include-resources names.
      expect(s.manifest.resources).toEqual([
        expect.objectContaining({ resource: 'configmaps', count: COUNT + 1 }),
        expect.objectContaining({ resource: 'namespaces', count: 1 }),
      ]);
      expect(s.objects.get(nsPath('configmaps', ns, 'cm-1233'))?.data).toEqual({
        index: 'cm-1233',
      });
    });
  });
});

describe('a user whose Role cannot list Secrets', () => {
  const ns = uniqueName('rbac');
  const user = uniqueName('limited');
  let kubeconfig: string;

  beforeAll(async () => {
    await create([namespace(ns)]);
    await create([
      configMap(ns, 'visible'),
      secret(ns, 'hidden', { token: 'do-not-leak' }),
      serviceAccount(ns, 'robot'),
      {
        apiVersion: `${RBAC}/v1`,
        kind: 'Role',
        metadata: { name: 'backup-no-secrets', namespace: ns },
        // Everything a backup of this namespace reads, except Secrets.
        rules: [
          { apiGroups: [''], resources: ['configmaps', 'serviceaccounts'], verbs: ['get', 'list'] },
        ],
      },
      {
        apiVersion: `${RBAC}/v1`,
        kind: 'RoleBinding',
        metadata: { name: 'backup-no-secrets', namespace: ns },
        roleRef: { apiGroup: RBAC, kind: 'Role', name: 'backup-no-secrets' },
        subjects: [{ apiGroup: RBAC, kind: 'User', name: user }],
      },
    ]);
    await settled(ns);
    kubeconfig = userKubeconfig(cluster(), user);
    // RBAC caches settle quickly but asynchronously: wait until the binding is in force.
    await until('the Role to apply', async () => {
      await api(k8s.CoreV1Api, kubeconfig).listNamespacedConfigMap({ namespace: ns });
      return true;
    });
  });

  describe.each(storageKinds)('to %s', (_label, makeStorage) => {
    it('keeps a partial snapshot without the Secrets, says so in snapshot.json and its output, and exits 2', async () => {
      const storage = makeStorage();
      const name = uniqueName('limited');
      const r = await storage.cli(['backup', name, '-n', ns], { KUBECONFIG: kubeconfig });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(
        `error: snapshot ${name} is partial: some selected types could not be read (listed above); it is kept, but retention does not count it as a good snapshot\n`,
      );
      expect(r.stdout).toContain(`Snapshot ${name} is partial`);
      expect(r.stdout).toContain(`skipped secrets in namespace ${ns}: forbidden`);

      const s = await readSnapshot(storage, name);
      expectConsistent(s);
      expect(pathsOf(s, 'secrets')).toEqual([]);
      const leaked = (text: string) =>
        text.includes('do-not-leak') ||
        text.includes(Buffer.from('do-not-leak').toString('base64'));
      expect([...s.objects.values()].some((o) => leaked(JSON.stringify(o)))).toBe(false);
      expect(pathsOf(s, 'configmaps')).toContain(nsPath('configmaps', ns, 'visible'));
      expect(pathsOf(s, 'serviceaccounts')).toContain(nsPath('serviceaccounts', ns, 'robot'));
      expect(s.manifest.warnings).toContainEqual({
        resource: 'secrets',
        namespace: ns,
        message: `skipped secrets in namespace ${ns}: forbidden`,
      });
      expect(s.log).toContainEqual(
        expect.objectContaining({ level: 'warning', resource: 'secrets', namespace: ns }),
      );

      const list = await storage.cli(['list']);
      expect(s.manifest.phase).toBe('PartiallyFailed');
      expect(list.stdout).toMatch(new RegExp(`^${name}\\s+PartiallyFailed\\s`, 'm'));
      const described = await storage.cli(['describe', name]);
      expect(described.stdout).toContain(`skipped secrets in namespace ${ns}: forbidden`);
    });
  });
});

describe.each(storageKinds)('snapshot names and integrity, in %s', (_label, makeStorage) => {
  const ns = uniqueName('integ');
  let storage: StorageKind;

  beforeAll(async () => {
    storage = makeStorage();
    await create([namespace(ns)]);
    // Incompressible data, so the archive is large (~200 KiB) and a byte in its middle is
    // inside compressed object data.
    await createParallel(
      Array.from({ length: 50 }, (_, i) =>
        configMap(ns, `cm-${i}`, { blob: randomBytes(3000).toString('base64') }),
      ),
    );
    await settled(ns);
  });

  it('refuses a name that exists, leaving the first snapshot untouched', async () => {
    const name = uniqueName('twice');
    const first = await storage.cli(['backup', name, '-n', ns]);
    expect(first.code, first.stderr).toBe(0);
    const keys = await storage.allKeys();
    const manifest = await storage.readRaw(`snapshots/${name}/snapshot.json`);
    const archive = await storage.readRaw(`snapshots/${name}/resources.tar.gz`);

    const second = await storage.cli(['backup', name, '-n', ns, '--include-resources', 'secrets']);
    expectCleanError(second, new RegExp(`snapshot "${name}" already exists`));

    expect(await storage.allKeys()).toEqual(keys);
    expect(await storage.readRaw(`snapshots/${name}/snapshot.json`)).toEqual(manifest);
    expect(await storage.readRaw(`snapshots/${name}/resources.tar.gz`)).toEqual(archive);
    expect((await storage.cli(['verify', name])).code).toBe(0);
  });

  it('lets exactly one of two simultaneous backups with one name succeed', async () => {
    const name = uniqueName('race');
    const results = await Promise.all([
      storage.cli(['backup', name, '-n', ns]),
      storage.cli(['backup', name, '-n', ns, '--include-resources', 'configmaps']),
    ]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
    const loser = results.find((r) => r.code === 1) as (typeof results)[number];
    expectCleanError(loser, new RegExp(`snapshot "${name}" already exists`));
    const verified = await storage.cli(['verify', name]);
    expect(verified.code, verified.stdout).toBe(0);
    expect((await storage.allKeys()).filter((k) => k.includes(`/${name}/`))).toEqual([
      `snapshots/${name}/log.jsonl.gz`,
      `snapshots/${name}/resources.tar.gz`,
      `snapshots/${name}/snapshot.json`,
    ]);
  });

  it('verify reports an intact snapshot, then catches a flipped byte in the archive', async () => {
    const name = uniqueName('flip');
    expect((await storage.cli(['backup', name, '-n', ns])).code).toBe(0);
    const ok = await storage.cli(['verify', name]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/is intact: \d+ objects, checksum matches/);

    const key = `snapshots/${name}/resources.tar.gz`;
    const bytes = Buffer.from(await storage.readRaw(key));
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] as number) ^ 0x01;
    await storage.writeRaw(key, bytes);

    const r = await storage.cli(['verify', name]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`snapshot ${name} is DAMAGED`);
    expect(r.stdout).toMatch(/sha256 mismatch|corrupt or truncated/);
  });

  it('verify catches a truncated archive', async () => {
    const name = uniqueName('trunc');
    expect((await storage.cli(['backup', name, '-n', ns])).code).toBe(0);
    const key = `snapshots/${name}/resources.tar.gz`;
    const bytes = await storage.readRaw(key);
    await storage.writeRaw(key, bytes.subarray(0, Math.floor(bytes.length / 2)));

    const r = await storage.cli(['verify', name]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`snapshot ${name} is DAMAGED`);
    expect(r.stdout).toMatch(/corrupt or truncated/);
  });
});
