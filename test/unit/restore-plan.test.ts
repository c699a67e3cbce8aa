import { describe, expect, it } from 'vitest';
import { type TypeNames, typeNamesOf } from '../../src/core/resources.js';
import { parseSelector } from '../../src/core/selectors.js';
import type { KubeObject } from '../../src/core/types.js';
import { type ArchivedObject, planningView } from '../../src/restore/load.js';
import { lookupCollections, planRestore, type RestoreOptions } from '../../src/restore/plan.js';
import {
  archived,
  clusterRole,
  clusterRoleBinding,
  configMap,
  crd,
  deployment,
  kubeObject,
  namespace,
  ownedBy,
  pv,
  pvc,
  replicaSet,
  saSubject,
  secret,
  served,
  serviceAccount,
  wholeSnapshot,
  withLabels,
} from './builders.js';

const defaults: RestoreOptions = wholeSnapshot();

function names(objs: { resource: string; name: string }[]): string[] {
  return objs.map((o) => `${o.resource}/${o.name}`);
}

describe('planRestore', () => {
  const web = served(deployment('web', 'shop'));
  const snapshot = [
    archived(namespace('shop')),
    archived(web),
    archived(ownedBy(replicaSet('web-1', 'shop'), web)),
    archived(configMap('settings', 'shop')),
    archived(withLabels(configMap('flags', 'shop'), { tier: 'cache' })),
    archived(secret('pw', 'shop', { p: 'eA==' })),
    archived(serviceAccount('runner', 'shop')),
    archived(clusterRoleBinding('runner-view', [saSubject('runner', 'shop')])),
    archived(
      kubeObject('rbac.authorization.k8s.io/v1', 'ClusterRole', 'unrelated', undefined, {
        rules: [],
      }),
    ),
    archived(
      pv('data-pv', {
        claimRef: { namespace: 'shop', name: 'data' },
        persistentVolumeReclaimPolicy: 'Retain',
      }),
    ),
    archived(pvc('data', 'shop', { volumeName: 'data-pv' })),
  ];

  it('orders namespaces first, then PVs, then claims, and workloads after config and RBAC', () => {
    const plan = planRestore(snapshot, defaults);
    expect(names(plan.namespaces)).toEqual(['namespaces/shop']);
    const order = plan.tiers.flat().map((p) => p.resource);
    const at = (r: string) => order.indexOf(r);
    expect(at('persistentvolumes')).toBeLessThan(at('persistentvolumeclaims'));
    expect(at('serviceaccounts')).toBeLessThan(at('secrets'));
    expect(at('configmaps')).toBeLessThan(at('deployments.apps'));
    expect(at('clusterrolebindings.rbac.authorization.k8s.io')).toBeLessThan(
      at('deployments.apps'),
    );
  });

  it('leaves a ReplicaSet to its restored Deployment and says why', () => {
    const plan = planRestore(snapshot, defaults);
    expect(plan.skipped).toContainEqual(
      expect.objectContaining({ name: 'web-1', reason: expect.stringMatching(/Deployment\/web/) }),
    );
    expect(names(plan.tiers.flat())).not.toContain('replicasets.apps/web-1');
  });

  it('restores a ReplicaSet whose Deployment is filtered out', () => {
    const plan = planRestore(snapshot, { ...defaults, excludeResources: ['deployments'] });
    expect(names(plan.tiers.flat())).toContain('replicasets.apps/web-1');
  });

  it('takes related cluster objects in auto mode and leaves unrelated ones out', () => {
    const plan = planRestore(snapshot, defaults);
    const planned = names(plan.tiers.flat());
    expect(planned).toEqual(
      expect.arrayContaining([
        'persistentvolumes/data-pv',
        'clusterrolebindings.rbac.authorization.k8s.io/runner-view',
      ]),
    );
    expect(planned).not.toContain('clusterroles.rbac.authorization.k8s.io/unrelated');
    expect(plan.skipped).toContainEqual(
      expect.objectContaining({
        name: 'unrelated',
        reason: expect.stringMatching(/cluster-scoped/),
      }),
    );
  });

  it('takes every cluster object with --include-cluster-resources=true and none with false', () => {
    expect(
      names(planRestore(snapshot, { ...defaults, includeClusterResources: 'true' }).tiers.flat()),
    ).toContain('clusterroles.rbac.authorization.k8s.io/unrelated');
    const none = planRestore(snapshot, { ...defaults, includeClusterResources: 'false' });
    expect(none.tiers.flat().filter((p) => p.namespace === undefined)).toEqual([]);
    // The namespace is still created: objects need somewhere to go.
    expect(names(none.namespaces)).toEqual(['namespaces/shop']);
  });

  it('leaves out what the control plane owns even with --include-cluster-resources=true, naming why', () => {
    const bootstrap = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };
    const plan = planRestore(
      [
        ...snapshot,
        archived(clusterRole('admin', [], {}, { annotations: bootstrap })),
        archived(kubeObject('networking.k8s.io/v1', 'IPAddress', '10.0.0.1', undefined)),
      ],
      { ...defaults, includeClusterResources: 'true' },
    );
    const planned = names(plan.tiers.flat());
    expect(planned).toContain('clusterroles.rbac.authorization.k8s.io/unrelated');
    expect(planned).not.toContain('clusterroles.rbac.authorization.k8s.io/admin');
    expect(plan.skipped).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'admin', reason: expect.stringMatching(/bootstrap RBAC/) }),
        expect.objectContaining({
          name: '10.0.0.1',
          reason: expect.stringMatching(/Service IP allocation/),
        }),
      ]),
    );
  });

  it('filters by label selector but never drops the namespace', () => {
    const plan = planRestore(snapshot, { ...defaults, selector: parseSelector('tier=cache') });
    expect(names(plan.tiers.flat())).toEqual(['configmaps/flags']);
    expect(names(plan.namespaces)).toEqual(['namespaces/shop']);
  });

  it('filters by --include-resources using kubectl names', () => {
    const plan = planRestore(snapshot, {
      ...defaults,
      includeResources: ['cm', 'secret'],
      includeClusterResources: 'false',
    });
    expect(names(plan.tiers.flat()).sort()).toEqual([
      'configmaps/flags',
      'configmaps/settings',
      'secrets/pw',
    ]);
  });

  it("filters custom resources by the short names and singular the snapshot's discovery recorded", () => {
    const widgets = [
      archived(namespace('lab')),
      archived(kubeObject('example.com/v1', 'Widget', 'w1', 'lab')),
    ];
    const only = (pattern: string, typeNames?: TypeNames) =>
      names(
        planRestore(widgets, {
          ...defaults,
          includeResources: [pattern],
          includeClusterResources: 'false',
          ...(typeNames ? { typeNames } : {}),
        }).tiers.flat(),
      );
    const recorded = typeNamesOf([
      { resource: 'widgets.example.com', singular: 'widget', shortNames: ['wd'] },
    ]);
    expect(only('wd', recorded)).toEqual(['widgets.example.com/w1']);
    expect(only('WD,', recorded)).toEqual([]);
    expect(only('widget', recorded)).toEqual(['widgets.example.com/w1']);
    expect(only('wd.example.com', recorded)).toEqual(['widgets.example.com/w1']);
    // Names nobody recorded select nothing (the option check refuses them before a plan).
    expect(only('wd')).toEqual([]);
  });

  it('brings the CRD of selected custom resources whatever --include-resources says, unless excluded by name', () => {
    const widgets = [
      archived(namespace('lab')),
      archived(crd('example.com', 'Widget', 'widgets')),
      archived(kubeObject('example.com/v1', 'Widget', 'w1', 'lab')),
    ];
    const plan = (extra: Partial<RestoreOptions>) =>
      planRestore(widgets, { ...defaults, includeResources: ['widgets'], ...extra });
    expect(names(plan({}).crds)).toEqual([
      'customresourcedefinitions.apiextensions.k8s.io/widgets.example.com',
    ]);
    const without = plan({ excludeResources: ['crd'] });
    expect(without.crds).toEqual([]);
    expect(without.skipped).toContainEqual(
      expect.objectContaining({ name: 'widgets.example.com', reason: 'resource type excluded' }),
    );
  });

  it('maps namespaces: objects, the Namespace and the binding subject follow, PV claimRef too', async () => {
    const plan = planRestore(snapshot, { ...defaults, mapping: new Map([['shop', 'shop-copy']]) });
    expect(names(plan.namespaces)).toEqual(['namespaces/shop-copy']);
    const all = plan.tiers.flat();
    expect(all.filter((p) => p.type.namespaced).every((p) => p.namespace === 'shop-copy')).toBe(
      true,
    );
    const crb = (await all.find((p) => p.name === 'runner-view')?.materialize()) as KubeObject & {
      subjects: { namespace: string }[];
    };
    expect(crb.subjects[0]?.namespace).toBe('shop-copy');
    const vol = (await all.find((p) => p.name === 'data-pv')?.materialize()) as KubeObject & {
      spec: { claimRef: { namespace: string; uid?: string } };
    };
    expect(vol.spec.claimRef.namespace).toBe('shop-copy');
    expect(vol.spec.claimRef.uid).toBeUndefined();
  });

  it('names what it leaves out of a mapped namespace by the target namespace, as the rest', () => {
    const plan = planRestore(snapshot, { ...defaults, mapping: new Map([['shop', 'shop-copy']]) });
    expect(plan.skipped.find((s) => s.name === 'web-1')?.namespace).toBe('shop-copy');
  });

  it('creates a bare namespace when the snapshot has no Namespace object', async () => {
    const plan = planRestore(
      snapshot.filter((a) => a.resource !== 'namespaces'),
      defaults,
    );
    expect(await Promise.all(plan.namespaces.map((n) => n.materialize()))).toEqual([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    ]);
    // The report tells it apart: its labels and annotations were not in the snapshot.
    expect(plan.namespaces.map((n) => n.bare)).toEqual([true]);
    expect(planRestore(snapshot, defaults).namespaces.map((n) => n.bare)).toEqual([undefined]);
  });

  it('restricts to the namespaces asked for', () => {
    const other = [archived(namespace('other')), archived(configMap('x', 'other'))];
    const plan = planRestore([...snapshot, ...other], { ...defaults, namespaces: ['other'] });
    expect(names(plan.namespaces)).toEqual(['namespaces/other']);
    expect(names(plan.tiers.flat())).toEqual(['configmaps/x']);
  });

  it('sends sanitised objects: no uid, resourceVersion or status', async () => {
    const plan = planRestore(snapshot, defaults);
    for (const p of plan.tiers.flat()) {
      const o = await p.materialize();
      expect(o.metadata.uid).toBeUndefined();
      expect(o.metadata.resourceVersion).toBeUndefined();
      expect(o.status).toBeUndefined();
    }
  });

  it('loads a spooled object only when it is materialised, from its planning view otherwise', async () => {
    let loads = 0;
    const full = served(
      withLabels(configMap('big', 'shop', { blob: 'x'.repeat(10_000) }), { tier: 'cache' }),
    );
    const spooled: ArchivedObject = {
      ...archived(full),
      object: planningView(full),
      source: {
        read: async () => {
          loads++;
          return full;
        },
      },
      ref: { offset: 0, length: 0, seq: 0 },
    };
    const plan = planRestore([spooled], { ...defaults, selector: parseSelector('tier=cache') });
    expect(loads).toBe(0);
    const [p] = plan.tiers.flat();
    if (!p) throw new Error('nothing planned');
    const created = (await p.materialize()) as KubeObject & { data: { blob: string } };
    expect(created.data.blob).toHaveLength(10_000);
    expect(loads).toBe(1);
  });

  it('puts CRDs in their own first step', () => {
    const crd = archived(
      kubeObject(
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        'widgets.example.com',
        undefined,
        {
          spec: {
            group: 'example.com',
            names: { plural: 'widgets', kind: 'Widget' },
            scope: 'Namespaced',
            versions: [],
          },
        },
      ),
    );
    const widget = archived(kubeObject('example.com/v1', 'Widget', 'w1', 'shop'));
    const plan = planRestore([...snapshot, crd, widget], defaults);
    expect(names(plan.crds)).toEqual([
      'customresourcedefinitions.apiextensions.k8s.io/widgets.example.com',
    ]);
    expect(names(plan.tiers.flat())).toContain('widgets.example.com/w1');
  });
});

describe('lookupCollections', () => {
  const count = (resource: string, apiVersion: string, kind: string, namespaced = true) => ({
    resource,
    apiVersion,
    kind,
    namespaced,
    count: 3,
  });
  const resources = [
    count('deployments.apps', 'apps/v1', 'Deployment'),
    count('configmaps', 'v1', 'ConfigMap'),
    count('events', 'v1', 'Event'),
    count('events.events.k8s.io', 'events.k8s.io/v1', 'Event'),
    count('namespaces', 'v1', 'Namespace', false),
    count('widgets.example.com', 'example.com/v1beta1', 'Widget'),
  ];
  const names = (cs: ReturnType<typeof lookupCollections>) =>
    cs.map((c) => `${c.type.resource}.${c.type.group}@${c.type.version}/${c.namespace}`);

  it('lists each restored namespaced type in every existing target namespace, earlier tiers first', () => {
    const opts = { ...defaults, mapping: new Map([['shop', 'shop-copy']]) };
    expect(names(lookupCollections(resources, opts, new Set(['shop', 'web'])))).toEqual([
      'configmaps.@v1/shop-copy',
      'configmaps.@v1/web',
      'deployments.apps@v1/shop-copy',
      'deployments.apps@v1/web',
      'widgets.example.com@v1beta1/shop-copy',
      'widgets.example.com@v1beta1/web',
    ]);
  });

  it('leaves out types the resource filters do not select, and lists nothing without namespaces', () => {
    const opts = { ...defaults, excludeResources: ['deployments'], includeResources: [] };
    expect(names(lookupCollections(resources, opts, new Set(['shop'])))).toEqual([
      'configmaps.@v1/shop',
      'widgets.example.com@v1beta1/shop',
    ]);
    const only = { ...defaults, includeResources: ['widgets.example.com'] };
    expect(names(lookupCollections(resources, only, new Set(['shop'])))).toEqual([
      'widgets.example.com@v1beta1/shop',
    ]);
    expect(lookupCollections(resources, defaults, new Set())).toEqual([]);
  });
});
