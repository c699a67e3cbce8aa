// A developer who is only `admin` of their own namespaces (a ServiceAccount bound by
// RoleBindings to the built-in `admin` ClusterRole, a kubeconfig with its token): backup,
// list/describe/verify, restore, diff, a server dry run and a clone all exit 0 with no
// warning that does not concern their selection; -A is refused with a clear message.
import * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { configMap, create, namespace, type Obj, secret, service } from './fixtures.js';
import { api, objects, uniqueName, until } from './helpers.js';
import { tokenKubeconfig } from './service-accounts.js';
import { nsPath, pathsOf, readSnapshot, type StorageKind, storageKinds } from './storage-kinds.js';

const RBAC = 'rbac.authorization.k8s.io';

interface Report {
  totals: Record<string, number>;
  results: { resource: string; namespace?: string; name: string; outcome: string }[];
}

const adminBinding = (ns: string, saNs: string, name: string): Obj => ({
  apiVersion: `${RBAC}/v1`,
  kind: 'RoleBinding',
  metadata: { name, namespace: ns },
  roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'admin' },
  subjects: [{ kind: 'ServiceAccount', name: 'dev', namespace: saNs }],
});

async function names(ns: string, apiVersion: string, kind: string): Promise<string[]> {
  const list = await objects().list(apiVersion, kind, ns);
  return list.items.map((o) => o.metadata?.name ?? '').sort();
}

/**
 * Lines of a command's output that are warnings about the user's rights. The one about Secrets
 * stored unencrypted outside the machine concerns the selection itself, as for any user.
 */
const warningLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => /warning|forbidden|not readable/i.test(l))
    .filter((l) => !/Secret\(s\) stored unencrypted in s3:/.test(l));

describe.each(storageKinds)(
  'a namespace admin (RoleBindings to the built-in admin ClusterRole), storing in %s',
  (_kind, storageKind) => {
    const ns = uniqueName('tenant');
    const ns2 = uniqueName('tenant2');
    let kubeconfig: string;
    let storage: StorageKind;
    let as: NodeJS.ProcessEnv;
    const snap = uniqueName('t1');
    const app = [
      configMap(ns, 'settings', { mode: 'prod' }),
      secret(ns, 'password', { pw: 'hunter2' }),
      service(ns, 'web', { ports: [{ port: 80 }] }),
    ];

    beforeAll(async () => {
      await create([namespace(ns), namespace(ns2)]);
      await until('the default ServiceAccounts', async () => {
        const a = await names(ns, 'v1', 'ServiceAccount');
        const b = await names(ns2, 'v1', 'ServiceAccount');
        return a.includes('default') && b.includes('default');
      });
      await create([
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'dev', namespace: ns } },
        adminBinding(ns, ns, 'dev-admin'),
        adminBinding(ns2, ns, 'dev-admin-2'),
        // A Role and its binding: a clone's server dry run cannot validate the binding (the
        // copy of its Role is never persisted).
        {
          apiVersion: `${RBAC}/v1`,
          kind: 'Role',
          metadata: { name: 'shop-reader', namespace: ns },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
        },
        {
          apiVersion: `${RBAC}/v1`,
          kind: 'RoleBinding',
          metadata: { name: 'shop-reader', namespace: ns },
          roleRef: { apiGroup: RBAC, kind: 'Role', name: 'shop-reader' },
          subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
        },
        ...app,
      ]);
      const token = await api(k8s.CoreV1Api).createNamespacedServiceAccountToken({
        name: 'dev',
        namespace: ns,
        body: { spec: { expirationSeconds: 3600, audiences: [] } },
      });
      kubeconfig = tokenKubeconfig(token.status?.token ?? '');
      as = { KUBECONFIG: kubeconfig };
      await until('the bindings and what controllers publish', async () => {
        await api(k8s.CoreV1Api, kubeconfig).listNamespacedSecret({ namespace: ns });
        await api(k8s.CoreV1Api, kubeconfig).listNamespacedSecret({ namespace: ns2 });
        const cms = [
          ...(await names(ns, 'v1', 'ConfigMap')),
          ...(await names(ns2, 'v1', 'ConfigMap')),
        ];
        return cms.filter((n) => n === 'kube-root-ca.crt').length === 2;
      });
      storage = storageKind();
    });

    it('backs up its namespace: exit 0, no warning, Completed, the same objects as a cluster admin', async () => {
      const r = await storage.cli(['backup', snap, '-n', ns], as);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(warningLines(r.stdout + r.stderr)).toEqual([]);
      const s = await readSnapshot(storage, snap);
      expect(s.manifest.phase).toBe('Completed');
      expect(s.manifest.warnings).toEqual([]);
      expect(pathsOf(s, 'configmaps')).toContain(nsPath('configmaps', ns, 'settings'));
      expect(pathsOf(s, 'secrets')).toContain(nsPath('secrets', ns, 'password'));
      expect(pathsOf(s, 'rolebindings.rbac.authorization.k8s.io')).toEqual([
        nsPath('rolebindings.rbac.authorization.k8s.io', ns, 'dev-admin'),
        nsPath('rolebindings.rbac.authorization.k8s.io', ns, 'shop-reader'),
      ]);
      // What was left out is said in the log, as info.
      expect(s.log).toContainEqual(
        expect.objectContaining({ level: 'info', resource: 'podtemplates', namespace: ns }),
      );
      expect(s.log.some((l) => l.level === 'warning')).toBe(false);

      // A cluster admin's backup of the namespace holds the same namespaced objects, plus what
      // only it may read (the Namespace object).
      const byAdmin = uniqueName('t1-admin');
      const a = await storage.cli(['backup', byAdmin, '-n', ns]);
      expect(a.code, a.stderr).toBe(0);
      const sa = await readSnapshot(storage, byAdmin);
      const namespaced = (x: typeof s) =>
        [...x.objects.keys()].filter((p) => p.includes(`/namespaces/${ns}/`)).sort();
      expect(namespaced(s)).toEqual(namespaced(sa));
    });

    it('lists, describes and verifies its snapshot', async () => {
      const list = await storage.cli(['list'], as);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(new RegExp(`^${snap}\\s+Completed\\s`, 'm'));
      const described = await storage.cli(['describe', snap], as);
      expect(described.code, described.stderr).toBe(0);
      const verified = await storage.cli(['verify', snap], as);
      expect(verified.code, verified.stderr).toBe(0);
    });

    /**
     * Runs a command (-o json) as the tenant, then as cluster admin; both exit 0 and report the
     * same outcome for every object. Returns the tenant's report.
     */
    const sameAsAdmin = async (args: string[]): Promise<Report> => {
      const outcomes = (r: Report) =>
        (r as unknown as { results: Record<string, string>[] }).results
          .map((x) => `${x.resource} ${x.namespace ?? ''}/${x.name}: ${x.outcome}`)
          .sort();
      const mine = await storage.cli([...args, '-o', 'json'], as);
      expect(mine.code, mine.stdout + mine.stderr).toBe(0);
      const admin = await storage.cli([...args, '-o', 'json']);
      expect(admin.code, admin.stdout + admin.stderr).toBe(0);
      const report = JSON.parse(mine.stdout) as Report;
      expect(outcomes(report)).toEqual(outcomes(JSON.parse(admin.stdout) as Report));
      return report;
    };

    it('diffs with everything present: exit 0, nothing to create, as a cluster admin sees it', async () => {
      const report = await sameAsAdmin(['diff', snap]);
      expect(report.totals['would-create']).toBe(0);
      expect(report.totals.failed).toBe(0);
      expect(report.totals['exists-identical']).toBeGreaterThan(0);
    });

    it('restores when everything exists: exit 0, all identical, as a cluster admin sees it', async () => {
      const report = await sameAsAdmin(['restore', snap]);
      expect(report.totals.created).toBe(0);
      expect(report.totals.failed).toBe(0);
      expect(report.totals['exists-differs']).toBe(0);
    });

    it('validates a restore on the server: exit 0, as a cluster admin sees it', async () => {
      const report = await sameAsAdmin(['restore', snap, '--dry-run=server']);
      expect(report.totals.failed).toBe(0);
    });

    it('restores its objects after they were deleted: exit 0, objects back', async () => {
      const client = objects();
      for (const o of app) await client.delete(o);
      await until(
        'the objects to be gone',
        async () => !(await names(ns, 'v1', 'ConfigMap')).includes('settings'),
      );
      const r = await storage.cli(['restore', snap], as);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(/Failed/);
      expect(await names(ns, 'v1', 'ConfigMap')).toContain('settings');
      expect(await names(ns, 'v1', 'Secret')).toContain('password');
      expect(await names(ns, 'v1', 'Service')).toContain('web');
    });

    it('validates a clone on the server: exit 0, the binding to the cloned Role not validated', async () => {
      const r = await storage.cli(
        ['restore', snap, '--namespace-mapping', `${ns}=${ns2}`, '--dry-run=server', '-o', 'json'],
        as,
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as {
        results: { kind: string; name: string; outcome: string; message?: string }[];
      };
      expect(report.results.filter((x) => x.outcome === 'failed')).toEqual([]);
      expect(report.results).toContainEqual(
        expect.objectContaining({
          kind: 'RoleBinding',
          name: 'shop-reader',
          outcome: 'not-validated',
          message: expect.stringContaining('its Role shop-reader is created by this restore'),
        }),
      );
      expect(await names(ns2, 'v1', 'ConfigMap')).not.toContain('settings');
    });

    it('clones into its second namespace with --namespace-mapping: exit 0', async () => {
      const r = await storage.cli(['restore', snap, '--namespace-mapping', `${ns}=${ns2}`], as);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(await names(ns2, 'v1', 'ConfigMap')).toContain('settings');
      expect(await names(ns2, 'v1', 'Secret')).toContain('password');
    });

    it('is told to name namespaces with -n when it asks for -A: exit 1', async () => {
      const r = await storage.cli(['backup', uniqueName('all'), '-A'], as);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: .*may not list namespaces/m);
      expect(r.stderr).toMatch(/-n NAMESPACE/);
      expect(r.stderr).not.toMatch(/-v|is forbidden: User/);
    });
  },
);
