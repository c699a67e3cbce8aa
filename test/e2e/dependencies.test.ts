// The dependency preflight of restore and diff (restore/dependencies.ts) against a real
// cluster: what the restored objects name of the cluster (ClusterRoles, CRDs, classes) and
// neither the cluster nor the snapshot has is a "missing dependency" with exit 2; classes the
// snapshot holds come back only when absent; a namespace admin's unreadable ClusterRoles are
// "not checked", exit 0.
import * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  clusterRole,
  configMap,
  crd,
  create,
  customResource,
  deployment,
  namespace,
  type Obj,
  persistentVolumeClaim,
  priorityClass,
  roleBinding,
  serviceAccount,
  storageClass,
  waitEstablished,
  withPodSpec,
} from './fixtures.js';
import { api, objects, readOptional, uniqueName, until } from './helpers.js';
import { tokenKubeconfig } from './service-accounts.js';
import { clusterPath, directoryStorage, readSnapshot, type StorageKind } from './storage-kinds.js';

const RBAC = 'rbac.authorization.k8s.io';

interface Report {
  totals: Record<string, number>;
  results: { resource: string; namespace?: string; name: string; outcome: string }[];
  missingDependencies?: { kind: string; name: string; reason: string; neededBy: string[] }[];
  dependenciesNotChecked?: { kind: string; names: string[]; reason: string }[];
}

const outcomeOf = (r: Report, resource: string, name: string) =>
  r.results.find((x) => x.resource === resource && x.name === name)?.outcome;

async function deleteAndWait(o: Obj): Promise<void> {
  await objects().delete(o);
  await until(`${o.kind} ${o.metadata?.name} to be gone`, async () => !(await readOptional(o)));
}

describe('the dependency preflight of restore and diff', () => {
  let storage: StorageKind;
  /** A restore of the snapshot into `NS-copy` with -o json: what it printed and its report. */
  const cloneOf = async (snap: string, ns: string) => {
    const r = await storage.cli([
      'restore',
      snap,
      '--namespace-mapping',
      `${ns}=${ns}-copy`,
      '-o',
      'json',
    ]);
    try {
      return { r, report: JSON.parse(r.stdout) as Report };
    } catch {
      throw new Error(`restore exited ${r.code} with no report: ${r.stderr}`);
    }
  };
  beforeAll(() => {
    storage = directoryStorage();
  });

  it('names a ClusterRole a RoleBinding needs that neither the cluster nor the snapshot has: exit 2, the rest restored', async () => {
    const ns = uniqueName('dep-role');
    const role = clusterRole(`${ns}-reader`);
    await create([
      namespace(ns),
      serviceAccount(ns, 'app'),
      role,
      roleBinding(ns, 'reader', role.metadata?.name as string, 'app'),
      configMap(ns, 'settings'),
    ]);
    const snap = uniqueName('dep-role');
    const b = await storage.cli(['backup', snap, '-n', ns, '--include-cluster-resources', 'false']);
    expect(b.code, b.stderr).toBe(0);
    await deleteAndWait(role);

    // Without a cluster, nothing can be missing: what the snapshot lacks is not checked.
    const offline = await storage.cli(['restore', snap, '--dry-run=client', '-o', 'json']);
    expect(offline.code, offline.stderr).toBe(0);
    const planned = JSON.parse(offline.stdout) as Report;
    expect(planned.missingDependencies).toBeUndefined();
    expect(planned.dependenciesNotChecked).toContainEqual({
      kind: 'ClusterRole',
      names: [role.metadata?.name],
      reason: '--dry-run=client does not contact the cluster; only the snapshot was checked',
    });

    const diff = await storage.cli(['diff', snap, '--namespace-mapping', `${ns}=${ns}-copy`]);
    expect(diff.code, diff.stdout + diff.stderr).toBe(2);
    expect(diff.stdout).toContain(
      `Missing dependencies (neither the cluster nor the snapshot has them):\n  ClusterRole ${role.metadata?.name} is not in the cluster or the snapshot: a binding to it grants nothing; needed by RoleBinding ${ns}-copy/reader\n`,
    );
    expect(diff.stderr).toBe('error: 1 missing dependency; see the report above\n');

    const { r, report } = await cloneOf(snap, ns);
    expect(r.code, r.stderr).toBe(2);
    expect(report.missingDependencies).toEqual([
      {
        kind: 'ClusterRole',
        name: role.metadata?.name,
        reason: `ClusterRole ${role.metadata?.name} is not in the cluster or the snapshot: a binding to it grants nothing`,
        neededBy: [`RoleBinding ${ns}-copy/reader`],
        neededByCount: 1,
      },
    ]);
    expect(report.totals.failed).toBe(0);
    expect(await readOptional(configMap(`${ns}-copy`, 'settings'))).toBeDefined();
    expect(
      await readOptional(roleBinding(`${ns}-copy`, 'reader', role.metadata?.name as string, 'app')),
    ).toBeDefined();
  });

  it('names a custom resource type whose CRD is in neither the cluster nor the snapshot as not served: exit 2', async () => {
    const ns = uniqueName('dep-crd');
    const group = `${uniqueName('g')}.example.com`;
    const widgets = crd(group, 'Widget', 'widgets');
    await create([namespace(ns), widgets]);
    await waitEstablished(`widgets.${group}`);
    await create([customResource(group, 'Widget', ns, 'w1'), configMap(ns, 'settings')]);
    const snap = uniqueName('dep-crd');
    const b = await storage.cli(['backup', snap, '-n', ns, '--include-cluster-resources', 'false']);
    expect(b.code, b.stderr).toBe(0);
    await deleteAndWait(widgets);

    const { r, report } = await cloneOf(snap, ns);
    expect(r.code, r.stderr).toBe(2);
    expect(report.missingDependencies).toMatchObject([
      {
        kind: 'CustomResourceDefinition',
        name: `widgets.${group}`,
        reason: `custom resource type widgets.${group} is not served: its CRD is not in the cluster or the snapshot`,
        neededBy: [`Widget ${ns}-copy/w1`],
      },
    ]);
    expect(await readOptional(configMap(`${ns}-copy`, 'settings'))).toBeDefined();
  });

  it('a server dry run into the existing namespace of custom resources whose CRD the restore brings: not validated, exit 0', async () => {
    const ns = uniqueName('dep-dry');
    const group = `${uniqueName('g')}.example.com`;
    const widgets = crd(group, 'Widget', 'widgets');
    await create([namespace(ns), widgets]);
    await waitEstablished(`widgets.${group}`);
    await until(`widgets.${group} served`, async () =>
      create([customResource(group, 'Widget', ns, 'w1')]).then(
        () => true,
        () => undefined,
      ),
    );
    const snap = uniqueName('dep-dry');
    const b = await storage.cli(['backup', snap, '-n', ns]);
    expect(b.code, b.stderr).toBe(0);
    // The CRD (and with it the custom resource) is lost; the namespace stays.
    await deleteAndWait(widgets);

    const dry = await storage.cli(['restore', snap, '--dry-run=server', '-o', 'json']);
    expect(dry.code, dry.stderr).toBe(0);
    const report = JSON.parse(dry.stdout) as Report & {
      results: { message?: string }[];
    };
    expect(
      outcomeOf(report, 'customresourcedefinitions.apiextensions.k8s.io', `widgets.${group}`),
    ).toBe('would-create');
    expect(report.results.find((x) => x.name === 'w1')).toMatchObject({
      outcome: 'not-validated',
      message: `its CustomResourceDefinition widgets.${group} is created by this restore, which a dry run does not persist`,
    });
    expect(report.totals.failed).toBe(0);
    // The real restore that follows creates both.
    const real = await storage.cli(['restore', snap, '-o', 'json']);
    expect(real.code, real.stderr).toBe(0);
    expect(outcomeOf(JSON.parse(real.stdout) as Report, `widgets.${group}`, 'w1')).toBe('created');
  });

  it('restores a PriorityClass a Deployment names, backed up in auto mode and deleted since: created, exit 0', async () => {
    const ns = uniqueName('dep-pc');
    const pc = priorityClass(`${ns}-high`);
    const pcName = pc.metadata?.name as string;
    await create([
      namespace(ns),
      pc,
      withPodSpec(deployment(ns, 'web'), { priorityClassName: pcName }),
    ]);
    const snap = uniqueName('dep-pc');
    const b = await storage.cli(['backup', snap, '-n', ns]);
    expect(b.code, b.stderr).toBe(0);
    const s = await readSnapshot(storage, snap);
    expect(s.objects.has(clusterPath('priorityclasses.scheduling.k8s.io', pcName))).toBe(true);
    // Its first reason: the Deployment's, or that of a Pod its ReplicaSet made (listed first).
    expect(s.log.find((l) => l.msg === 'included' && l.name === pcName)?.reason).toMatch(
      new RegExp(
        `^PriorityClass named by (Deployment ${ns}/web \\(spec\\.template\\.|Pod ${ns}/web-[a-z0-9-]+ \\()spec\\.priorityClassName\\); a reference: restored only if absent$`,
      ),
    );
    await deleteAndWait(pc);

    const { r, report } = await cloneOf(snap, ns);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(outcomeOf(report, 'priorityclasses.scheduling.k8s.io', pcName)).toBe('created');
    expect(report.missingDependencies).toBeUndefined();
    expect((await readOptional(pc))?.value).toBe(1000);
  });

  it('leaves an existing StorageClass a claim names alone: neither created nor compared, exit 0', async () => {
    const ns = uniqueName('dep-sc');
    const sc = storageClass(`${ns}-local`);
    const scName = sc.metadata?.name as string;
    await create([namespace(ns), sc, persistentVolumeClaim(ns, 'data', undefined, scName)]);
    const snap = uniqueName('dep-sc');
    const b = await storage.cli(['backup', snap, '-n', ns]);
    expect(b.code, b.stderr).toBe(0);
    const s = await readSnapshot(storage, snap);
    expect(s.objects.has(clusterPath('storageclasses.storage.k8s.io', scName))).toBe(true);
    // The cluster's class changes after the backup: still never "differs".
    await objects().patch(
      {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: scName, labels: { tier: 'changed' } },
      },
      undefined,
      undefined,
      'e2e',
      undefined,
      k8s.PatchStrategy.MergePatch,
    );

    const diff = await storage.cli(['diff', snap, '-o', 'json']);
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);
    expect(
      outcomeOf(JSON.parse(diff.stdout) as Report, 'storageclasses.storage.k8s.io', scName),
    ).toBe('exists');
    const { r, report } = await cloneOf(snap, ns);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(outcomeOf(report, 'storageclasses.storage.k8s.io', scName)).toBe('exists');
    expect(report.totals['exists-differs']).toBe(0);
    expect(report.missingDependencies).toBeUndefined();
    expect((await readOptional(sc))?.metadata?.labels).toEqual({ tier: 'changed' });
    expect(
      await readOptional(persistentVolumeClaim(`${ns}-copy`, 'data', undefined, scName)),
    ).toBeDefined();
  });

  it('as a namespace admin, who may not read ClusterRoles, says the ClusterRole check was not done: exit 0', async () => {
    const ns = uniqueName('dep-tenant');
    await create([namespace(ns), serviceAccount(ns, 'dev')]);
    await create([roleBinding(ns, 'dev-admin', 'admin', 'dev'), configMap(ns, 'settings')]);
    const token = await api(k8s.CoreV1Api).createNamespacedServiceAccountToken({
      name: 'dev',
      namespace: ns,
      body: { spec: { expirationSeconds: 3600, audiences: [] } },
    });
    const as = { KUBECONFIG: tokenKubeconfig(token.status?.token ?? '') };
    await until('the binding to take effect', async () => {
      await api(k8s.CoreV1Api, as.KUBECONFIG).listNamespacedConfigMap({ namespace: ns });
      return true;
    });
    const snap = uniqueName('dep-tenant');
    const b = await storage.cli(['backup', snap, '-n', ns], as);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    await objects().delete(configMap(ns, 'settings'));
    await until(
      'the ConfigMap to be gone',
      async () => !(await readOptional(configMap(ns, 'settings'))),
    );

    const r = await storage.cli(['restore', snap, '-o', 'json'], as);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.missingDependencies).toBeUndefined();
    expect(report.dependenciesNotChecked).toEqual([
      { kind: 'ClusterRole', names: ['admin'], reason: `you may not get clusterroles.${RBAC}` },
    ]);
    expect(await readOptional(configMap(ns, 'settings'))).toBeDefined();
    const text = await storage.cli(['diff', snap], as);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `Dependencies not checked (not counted as missing):\n  1 ClusterRole(s) (admin): you may not get clusterroles.${RBAC}\n`,
    );
  });
});
