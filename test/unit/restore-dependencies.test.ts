// The dependency preflight (restore/dependencies.ts): what the restore set needs of the
// cluster, judged against the restore set and what the cluster answered. Pure.
import { describe, expect, it } from 'vitest';
import { dependencySection } from '../../src/cli/commands/restore-report.js';
import { qualifiedResource, type ResourceType } from '../../src/core/types.js';
import {
  type Dependent,
  judgeDependencies,
  needing,
  needsOf,
  type Presence,
  RestoreSet,
  type Target,
  targetKey,
  targetsOf,
} from '../../src/restore/dependencies.js';
import { type ArchivedObject, planningView } from '../../src/restore/load.js';
import type { PlannedObject } from '../../src/restore/plan.js';
import { checkDependencies } from '../../src/restore/preflight.js';
import { type RestoreReport, tally } from '../../src/restore/results.js';
import {
  clusterRoleBinding,
  configMap,
  crd,
  cronJob,
  deployment,
  kubeObject,
  podSpec,
  pv,
  pvc,
  roleBindingToClusterRole,
  saSubject,
} from './builders.js';

const RBAC = 'rbac.authorization.k8s.io';
const group = 'kafka.strimzi.io';

const types: Record<string, ResourceType> = {
  ConfigMap: {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
  },
  RoleBinding: {
    group: RBAC,
    version: 'v1',
    resource: 'rolebindings',
    kind: 'RoleBinding',
    namespaced: true,
  },
  ClusterRoleBinding: {
    group: RBAC,
    version: 'v1',
    resource: 'clusterrolebindings',
    kind: 'ClusterRoleBinding',
    namespaced: false,
  },
  Deployment: {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespaced: true,
  },
  CronJob: {
    group: 'batch',
    version: 'v1',
    resource: 'cronjobs',
    kind: 'CronJob',
    namespaced: true,
  },
  PersistentVolumeClaim: {
    group: '',
    version: 'v1',
    resource: 'persistentvolumeclaims',
    kind: 'PersistentVolumeClaim',
    namespaced: true,
  },
  PersistentVolume: {
    group: '',
    version: 'v1',
    resource: 'persistentvolumes',
    kind: 'PersistentVolume',
    namespaced: false,
  },
  Ingress: {
    group: 'networking.k8s.io',
    version: 'v1',
    resource: 'ingresses',
    kind: 'Ingress',
    namespaced: true,
  },
  Kafka: { group, version: 'v1beta2', resource: 'kafkas', kind: 'Kafka', namespaced: true },
  CustomResourceDefinition: {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
  },
};

/** An object of the restore set, as the preflight sees it: its planning view. */
function dependent(o: ReturnType<typeof kubeObject>): Dependent {
  const type = types[o.kind] as ResourceType;
  const resource = qualifiedResource(type);
  return {
    resource,
    kind: o.kind,
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    name: o.metadata.name,
    type,
    object: planningView(o, resource),
  };
}

const objectTargets = (o: ReturnType<typeof kubeObject>) =>
  targetsOf(dependent(o))
    .filter((t) => t.kind === 'object')
    .map(targetKey);

const kafka = kubeObject(`${group}/v1beta2`, 'Kafka', 'cluster', 'kafka', { spec: {} });
const kafkasCrd = (versions: string[]) => ({
  ...crd(group, 'Kafka', 'kafkas'),
  spec: {
    group,
    names: { plural: 'kafkas', kind: 'Kafka' },
    scope: 'Namespaced',
    versions: versions.map((name) => ({ name, served: true, storage: name === versions[0] })),
  },
});

describe('targetsOf', () => {
  it('names the ClusterRole of a RoleBinding and of a ClusterRoleBinding, not a Role', () => {
    expect(
      objectTargets(roleBindingToClusterRole('op', 'kafka', 'strimzi', [saSubject('op', 'kafka')])),
    ).toEqual([`clusterroles.${RBAC}/strimzi`]);
    expect(objectTargets(clusterRoleBinding('b', [saSubject('op', 'kafka')]))).toEqual([
      `clusterroles.${RBAC}/b`,
    ]);
    const toRole = kubeObject(`${RBAC}/v1`, 'RoleBinding', 'r', 'kafka', {
      roleRef: { apiGroup: RBAC, kind: 'Role', name: 'local' },
      subjects: [],
    });
    expect(objectTargets(toRole)).toEqual([]);
  });

  it('names the PriorityClass and RuntimeClass of Pod templates, a CronJob jobTemplate included', () => {
    const job = cronJob('nightly', 'kafka');
    const tpl = (job.spec as { jobTemplate: { spec: { template: { spec: object } } } }).jobTemplate
      .spec.template;
    tpl.spec = { ...tpl.spec, priorityClassName: 'batch', runtimeClassName: 'gvisor' };
    expect(objectTargets(job)).toEqual([
      'priorityclasses.scheduling.k8s.io/batch',
      'runtimeclasses.node.k8s.io/gvisor',
    ]);
    const web = deployment('web', 'kafka', {
      template: { spec: podSpec({ priorityClassName: 'critical' }) },
    });
    expect(objectTargets(web)).toEqual(['priorityclasses.scheduling.k8s.io/critical']);
  });

  it('names the StorageClass of a claim to be provisioned, and none for an empty class', () => {
    expect(objectTargets(pvc('d', 'kafka', { storageClassName: 'fast' }))).toEqual([
      'storageclasses.storage.k8s.io/fast',
    ]);
    expect(objectTargets(pvc('d', 'kafka', { storageClassName: '' }))).toEqual([]);
  });

  it('does not name the StorageClass of a static volume or of a claim bound to one by name: it may exist nowhere', () => {
    expect(objectTargets(pv('pv-1', { storageClassName: 'manual' }))).toEqual([]);
    expect(
      objectTargets(pvc('d', 'kafka', { storageClassName: 'manual', volumeName: 'pv-1' })),
    ).toEqual([]);
  });

  it("names an Ingress's spec.ingressClassName, not the legacy annotation (a controller's convention)", () => {
    const ingress = kubeObject(
      'networking.k8s.io/v1',
      'Ingress',
      'web',
      'kafka',
      { spec: { ingressClassName: 'nginx' } },
      { annotations: { 'kubernetes.io/ingress.class': 'traefik' } },
    );
    expect(objectTargets(ingress)).toEqual(['ingressclasses.networking.k8s.io/nginx']);
  });

  it('names every object its own type at its version', () => {
    expect(targetsOf(dependent(kafka))).toEqual([
      { kind: 'type', group, version: 'v1beta2', resource: 'kafkas' },
    ]);
  });
});

describe('needsOf', () => {
  it('lists each target once, with the first ten objects that need it and how many do', () => {
    const cms = Array.from({ length: 12 }, (_, i) => dependent(configMap(`c${i}`, 'kafka')));
    const [need] = needsOf(cms.map(needing));
    expect(need?.neededByCount).toBe(12);
    expect(need?.neededBy).toHaveLength(10);
    expect(need?.neededBy[0]).toBe('ConfigMap kafka/c0');
  });
});

describe('judgeDependencies', () => {
  const answer =
    (states: Record<string, Presence>) =>
    (t: Target): Presence =>
      states[targetKey(t)] ?? { state: 'present' };
  const binding = dependent(
    roleBindingToClusterRole('strimzi', 'kafka', 'strimzi-operator', [saSubject('op', 'kafka')]),
  );

  it('reports a ClusterRole neither the cluster nor the restore set has, with the binding that needs it', () => {
    const f = judgeDependencies(
      needsOf([binding].map(needing)),
      new RestoreSet(),
      answer({ [`clusterroles.${RBAC}/strimzi-operator`]: { state: 'absent' } }),
    );
    expect(f.missing).toEqual([
      {
        kind: 'ClusterRole',
        name: 'strimzi-operator',
        reason:
          'ClusterRole strimzi-operator is not in the cluster or the snapshot: a binding to it grants nothing',
        neededBy: ['RoleBinding kafka/strimzi'],
        neededByCount: 1,
      },
    ]);
    expect(f.notChecked).toEqual([]);
  });

  it('does not ask the cluster for what the restore set provides', () => {
    const set = new RestoreSet();
    set.add(
      `clusterroles.${RBAC}`,
      'strimzi-operator',
      kubeObject(`${RBAC}/v1`, 'ClusterRole', 'strimzi-operator', undefined),
    );
    const asked: string[] = [];
    const f = judgeDependencies(needsOf([binding].map(needing)), set, (t) => {
      asked.push(targetKey(t));
      return { state: 'absent' };
    });
    expect(asked).not.toContain(`clusterroles.${RBAC}/strimzi-operator`);
    // Its own type is asked (and answered absent here): only a CRD in the set provides a type.
    expect(f.missing.map((m) => m.name)).toEqual([`rolebindings.${RBAC}`]);
  });

  it('names a custom resource type that is not served, as its CRD missing', () => {
    const f = judgeDependencies(
      needsOf([dependent(kafka)].map(needing)),
      new RestoreSet(),
      answer({ [`type:kafkas.${group}/v1beta2`]: { state: 'absent' } }),
    );
    expect(f.missing).toMatchObject([
      {
        kind: 'CustomResourceDefinition',
        name: `kafkas.${group}`,
        reason: `custom resource type kafkas.${group} is not served: its CRD is not in the cluster or the snapshot`,
        neededBy: ['Kafka kafka/cluster'],
      },
    ]);
  });

  it("takes a custom type as served when the restore set's CRD serves its version, and says so when it does not", () => {
    const needs = needsOf([dependent(kafka)].map(needing));
    const absent = answer({ [`type:kafkas.${group}/v1beta2`]: { state: 'absent' } });
    const withCrd = (versions: string[]) => {
      const set = new RestoreSet();
      const c = kafkasCrd(versions);
      set.add(
        'customresourcedefinitions.apiextensions.k8s.io',
        c.metadata.name,
        planningView(c, 'customresourcedefinitions.apiextensions.k8s.io'),
      );
      return set;
    };
    expect(judgeDependencies(needs, withCrd(['v1beta2', 'v1']), absent).missing).toEqual([]);
    expect(judgeDependencies(needs, withCrd(['v1']), absent).missing[0]?.reason).toBe(
      `custom resource type kafkas.${group} is not served at version v1beta2: the snapshot's CRD does not serve it`,
    );
  });

  it('reports what could not be asked as not checked, once per kind and reason, never as missing', () => {
    const other = dependent(
      roleBindingToClusterRole('edit', 'kafka', 'edit', [saSubject('op', 'kafka')]),
    );
    const forbidden: Presence = { state: 'unknown', why: `you may not get clusterroles.${RBAC}` };
    const f = judgeDependencies(
      needsOf([binding, other].map(needing)),
      new RestoreSet(),
      answer({
        [`clusterroles.${RBAC}/strimzi-operator`]: forbidden,
        [`clusterroles.${RBAC}/edit`]: forbidden,
      }),
    );
    expect(f.missing).toEqual([]);
    expect(f.notChecked).toEqual([
      { kind: 'ClusterRole', names: ['edit', 'strimzi-operator'], reason: forbidden.why },
    ]);
  });

  it('explains a missing StorageClass, PriorityClass and IngressClass by what their absence breaks', () => {
    const ingress = kubeObject('networking.k8s.io/v1', 'Ingress', 'web', 'kafka', {
      spec: { ingressClassName: 'nginx' },
    });
    const web = deployment('web', 'kafka', {
      template: { spec: podSpec({ priorityClassName: 'critical' }) },
    });
    const f = judgeDependencies(
      needsOf(
        [
          dependent(pvc('d', 'kafka', { storageClassName: 'fast' })),
          dependent(web),
          dependent(ingress),
        ].map(needing),
      ),
      new RestoreSet(),
      answer({
        'storageclasses.storage.k8s.io/fast': { state: 'absent' },
        'priorityclasses.scheduling.k8s.io/critical': { state: 'absent' },
        'ingressclasses.networking.k8s.io/nginx': { state: 'absent' },
      }),
    );
    expect(f.missing.map((m) => m.reason)).toEqual([
      'IngressClass nginx is not in the cluster or the snapshot: no controller serves Ingresses of it',
      'PriorityClass critical is not in the cluster or the snapshot: the API server refuses Pods that name it',
      'StorageClass fast is not in the cluster or the snapshot: claims of it are never provisioned',
    ]);
  });
});

describe('the report of the preflight', () => {
  const base: RestoreReport = {
    snapshot: 's',
    results: [],
    totals: tally([]),
  };

  it('lists each missing dependency with its reason and who needs it, then what was not checked', () => {
    const text = dependencySection({
      ...base,
      missingDependencies: [
        {
          kind: 'ClusterRole',
          name: 'op',
          reason:
            'ClusterRole op is not in the cluster or the snapshot: a binding to it grants nothing',
          neededBy: ['RoleBinding kafka/op'],
          neededByCount: 3,
        },
      ],
      dependenciesNotChecked: [
        { kind: 'ClusterRole', names: ['admin'], reason: `you may not get clusterroles.${RBAC}` },
      ],
    });
    expect(text).toBe(
      [
        '',
        'Missing dependencies (neither the cluster nor the snapshot has them):',
        '  ClusterRole op is not in the cluster or the snapshot: a binding to it grants nothing; needed by RoleBinding kafka/op, … (3 in all)',
        '',
        'Dependencies not checked (not counted as missing):',
        `  1 ClusterRole(s) (admin): you may not get clusterroles.${RBAC}`,
        '',
      ].join('\n'),
    );
  });

  it('is empty when nothing is missing or unchecked', () => {
    expect(dependencySection(base)).toBe('');
  });
});

describe('checkDependencies', () => {
  const claim = (storageClassName: string) => pvc('d', 'kafka', { storageClassName });
  const planned = (sent: ReturnType<typeof kubeObject>): PlannedObject => ({
    resource: 'persistentvolumeclaims',
    type: types.PersistentVolumeClaim as ResourceType,
    kind: 'PersistentVolumeClaim',
    namespace: 'kafka',
    name: 'd',
    materialize: async () => sent,
  });
  const archived: ArchivedObject[] = [
    {
      resource: 'persistentvolumeclaims',
      namespace: 'kafka',
      name: 'd',
      object: planningView(claim('standard'), 'persistentvolumeclaims'),
    } as ArchivedObject,
  ];

  it('judges what a transform will send, not what the snapshot holds', async () => {
    const f = await checkDependencies(
      archived,
      [planned(claim('fast-ssd'))],
      new Map(),
      undefined,
      true,
    );
    expect(f.notChecked.flatMap((u) => u.names)).toEqual(['fast-ssd']);
  });

  it('judges the snapshot view when nothing is transformed', async () => {
    const f = await checkDependencies(archived, [planned(claim('fast-ssd'))], new Map(), undefined);
    expect(f.notChecked.flatMap((u) => u.names)).toEqual(['standard']);
  });
});
