// The application closure (core/closure.ts): which cluster objects a selection needs to run
// again after namespaces, CRDs and cluster RBAC are gone, each with its reason.
import { describe, expect, it } from 'vitest';
import { RelatedCollector, relatedTypes } from '../../src/backup/select.js';
import {
  applicationClosure,
  ClosureFacts,
  type ClusterLists,
  grantsType,
  type Inclusion,
} from '../../src/core/closure.js';
import { selectTypes } from '../../src/core/resources.js';
import type { KubeObject } from '../../src/core/types.js';
import { type ArchivedObject, planningView } from '../../src/restore/load.js';
import { planRestore } from '../../src/restore/plan.js';
import {
  aggregatedClusterRole,
  archived,
  clusterRole,
  clusterRoleBinding,
  configMap,
  crd,
  cronJob,
  deployment,
  kubeObject,
  namespace,
  pod,
  podSpec,
  pv,
  pvc,
  role,
  roleBinding,
  roleBindingToClusterRole,
  rule,
  saSubject,
  selection,
  serviceAccount,
  wholeSnapshot,
} from './builders.js';

const RBAC = 'rbac.authorization.k8s.io';
const PRIORITY = 'priorityclasses.scheduling.k8s.io';
const RUNTIME = 'runtimeclasses.node.k8s.io';
const STORAGE = 'storageclasses.storage.k8s.io';
const INGRESS = 'ingressclasses.networking.k8s.io';
const CRDS = 'customresourcedefinitions.apiextensions.k8s.io';
const group = 'kafka.strimzi.io';
const kafkas = crd(group, 'Kafka', 'kafkas');
const topics = crd(group, 'KafkaTopic', 'kafkatopics');
const users = crd(group, 'KafkaUser', 'kafkausers');
const other = crd('example.com', 'Widget', 'widgets');
const kafka = kubeObject(`${group}/v1`, 'Kafka', 'cluster', 'kafka', { spec: {} });

const resourceOf: Record<string, string> = {
  ServiceAccount: 'serviceaccounts',
  RoleBinding: `rolebindings.${RBAC}`,
  Role: `roles.${RBAC}`,
  PersistentVolumeClaim: 'persistentvolumeclaims',
  ConfigMap: 'configmaps',
  Kafka: `kafkas.${group}`,
  Pod: 'pods',
  Deployment: 'deployments.apps',
  StatefulSet: 'statefulsets.apps',
  CronJob: 'cronjobs.batch',
  PersistentVolume: 'persistentvolumes',
  Ingress: 'ingresses.networking.k8s.io',
};

/** The facts a backup collects from these listed namespaced objects. */
function factsOf(...objs: KubeObject[]): ClosureFacts {
  const facts = new ClosureFacts();
  for (const o of objs) facts.observe(resourceOf[o.kind] as string, o);
  return facts;
}

const keys = (out: Inclusion[]) => out.map((i) => `${i.resource}/${i.name}`);
const reasonOf = (out: Inclusion[], resource: string, name: string) =>
  out.find((i) => i.resource === resource && i.name === name)?.reason;

/** An operator-shaped namespace: its account, bound in-namespace to a ClusterRole. */
const operator = serviceAccount('operator', 'kafka');
const operatorRole = clusterRole('strimzi-cluster-operator', [
  rule([group], ['kafkas', 'kafkatopics', 'kafkas/status']),
  rule([''], ['pods']),
]);
const operatorBinding = roleBindingToClusterRole('strimzi', 'kafka', 'strimzi-cluster-operator', [
  saSubject('operator', 'kafka'),
]);
const cluster: ClusterLists = {
  namespaces: [namespace('kafka')],
  crds: [kafkas, topics, users, other],
  clusterRoles: [operatorRole, clusterRole('unrelated', [rule(['example.com'], ['widgets'])])],
  clusterRoleBindings: [],
};

describe('applicationClosure', () => {
  it('adds the Namespace objects of the selection, even when only a custom type was listed', () => {
    const out = applicationClosure(factsOf(kafka), cluster);
    expect(keys(out)).toEqual(['namespaces/kafka', `${CRDS}/kafkas.${group}`]);
    expect(reasonOf(out, 'namespaces', 'kafka')).toBe('namespace of the selection');
    expect(reasonOf(out, CRDS, `kafkas.${group}`)).toBe('has custom resources in the selection');
  });

  it('adds a ClusterRole a RoleBinding of the selection names, not only one a ClusterRoleBinding names', () => {
    const out = applicationClosure(factsOf(operator, operatorBinding), cluster);
    expect(keys(out)).toContain(`clusterroles.${RBAC}/strimzi-cluster-operator`);
    expect(reasonOf(out, `clusterroles.${RBAC}`, 'strimzi-cluster-operator')).toBe(
      'named by RoleBinding kafka/strimzi',
    );
    expect(keys(out)).not.toContain(`clusterroles.${RBAC}/unrelated`);
  });

  it('adds a ClusterRole a RoleBinding names even when it binds no account of the selection', () => {
    const binding = roleBindingToClusterRole('readers', 'kafka', 'strimzi-cluster-operator', [
      { kind: 'Group', name: 'readers' },
    ]);
    const out = applicationClosure(factsOf(binding), cluster);
    expect(keys(out)).toContain(`clusterroles.${RBAC}/strimzi-cluster-operator`);
    // No account of the selection is granted anything: no CRD by grant.
    expect(keys(out).filter((k) => k.startsWith(CRDS))).toEqual([]);
  });

  it('adds the CRDs a ClusterRole grants an account of the selection, also with no custom resource', () => {
    const out = applicationClosure(factsOf(operator, operatorBinding), cluster);
    expect(keys(out)).toContain(`${CRDS}/kafkas.${group}`);
    expect(keys(out)).toContain(`${CRDS}/kafkatopics.${group}`);
    expect(keys(out)).not.toContain(`${CRDS}/kafkausers.${group}`);
    expect(keys(out)).not.toContain(`${CRDS}/widgets.example.com`);
    expect(reasonOf(out, CRDS, `kafkatopics.${group}`)).toBe(
      'granted to ServiceAccount kafka/operator by ClusterRole strimzi-cluster-operator (RoleBinding kafka/strimzi)',
    );
  });

  it('adds the CRDs a namespaced Role grants an account of the selection', () => {
    const r = role('users', 'kafka', [rule([group], ['kafkausers'])]);
    const b = roleBinding('users', 'kafka', [saSubject('operator', 'kafka')]);
    const out = applicationClosure(factsOf(operator, r, b), cluster);
    expect(reasonOf(out, CRDS, `kafkausers.${group}`)).toBe(
      'granted to ServiceAccount kafka/operator by Role users (RoleBinding kafka/users)',
    );
  });

  it('ignores grants to accounts outside the selection', () => {
    const r = role('users', 'kafka', [rule([group], ['kafkausers'])]);
    const b = roleBinding('users', 'kafka', [saSubject('someone', 'elsewhere')]);
    const out = applicationClosure(factsOf(operator, r, b), cluster);
    expect(keys(out)).not.toContain(`${CRDS}/kafkausers.${group}`);
  });

  it('adds a ClusterRoleBinding naming an account of the selection, its ClusterRole and the CRDs it grants', () => {
    const crb = clusterRoleBinding('strimzi-cluster-operator', [saSubject('operator', 'kafka')]);
    const out = applicationClosure(factsOf(operator), {
      ...cluster,
      clusterRoleBindings: [crb, clusterRoleBinding('unrelated', [saSubject('x', 'other')])],
    });
    expect(reasonOf(out, `clusterrolebindings.${RBAC}`, 'strimzi-cluster-operator')).toBe(
      'binds ServiceAccount kafka/operator',
    );
    expect(keys(out)).not.toContain(`clusterrolebindings.${RBAC}/unrelated`);
    expect(reasonOf(out, `clusterroles.${RBAC}`, 'strimzi-cluster-operator')).toBe(
      'named by ClusterRoleBinding strimzi-cluster-operator',
    );
    expect(keys(out)).toContain(`${CRDS}/kafkatopics.${group}`);
  });

  it('stores an aggregated ClusterRole with its aggregation rule and without the computed rules, and adds what it aggregates', () => {
    const part = clusterRole(
      'kafka-users-part',
      [rule([group], ['kafkausers'])],
      {},
      {
        labels: { 'example.com/aggregate-to-kafka': 'true' },
      },
    );
    const aggregated = aggregatedClusterRole('kafka-all', 'example.com/aggregate-to-kafka', [
      rule([group], ['kafkausers']),
    ]);
    const b = roleBindingToClusterRole('all', 'kafka', 'kafka-all', [
      saSubject('operator', 'kafka'),
    ]);
    const out = applicationClosure(factsOf(operator, b), {
      ...cluster,
      clusterRoles: [aggregated, part, operatorRole],
    });
    const stored = out.find((i) => i.name === 'kafka-all')?.object as KubeObject;
    expect(stored.aggregationRule).toEqual(aggregated.aggregationRule);
    expect(stored).not.toHaveProperty('rules');
    expect(reasonOf(out, `clusterroles.${RBAC}`, 'kafka-users-part')).toBe(
      'aggregated into ClusterRole kafka-all',
    );
    expect(out.find((i) => i.name === 'kafka-users-part')?.object).toEqual(part);
    // Granted through the aggregation, even with the computed rules gone (as in a snapshot).
    const fromSnapshot = applicationClosure(factsOf(operator, b), {
      ...cluster,
      clusterRoles: [{ ...aggregated, rules: undefined }, part],
    });
    expect(keys(fromSnapshot)).toContain(`${CRDS}/kafkausers.${group}`);
  });

  it('adds the PersistentVolume of an included claim, to be read by name', () => {
    const claim = pvc('data', 'kafka', { volumeName: 'pv-1' });
    const out = applicationClosure(factsOf(claim), cluster);
    expect(out.find((i) => i.name === 'pv-1')).toEqual({
      resource: 'persistentvolumes',
      name: 'pv-1',
      reason: 'bound to PersistentVolumeClaim kafka/data',
    });
  });

  it("adds the PriorityClass and RuntimeClass a Pod template names, for Pods, Deployments and a CronJob's jobTemplate", () => {
    const classes = { priorityClassName: 'critical', runtimeClassName: 'gvisor' };
    const job = cronJob('nightly', 'kafka');
    const jobPod = (job.spec as { jobTemplate: { spec: { template: { spec: object } } } })
      .jobTemplate.spec.template;
    jobPod.spec = { ...jobPod.spec, priorityClassName: 'batch' };
    const out = applicationClosure(
      factsOf(
        pod('p', 'kafka', classes),
        deployment('web', 'kafka', {
          template: { spec: podSpec({ priorityClassName: 'critical' }) },
        }),
        job,
      ),
      cluster,
    );
    expect(keys(out).filter((k) => !k.startsWith('namespaces/'))).toEqual([
      `${PRIORITY}/critical`,
      `${RUNTIME}/gvisor`,
      `${PRIORITY}/batch`,
    ]);
    expect(reasonOf(out, PRIORITY, 'critical')).toBe(
      'PriorityClass named by Pod kafka/p (spec.priorityClassName)',
    );
    expect(reasonOf(out, PRIORITY, 'batch')).toBe(
      'PriorityClass named by CronJob kafka/nightly (spec.jobTemplate.spec.template.spec.priorityClassName)',
    );
    expect(out.find((i) => i.name === 'gvisor')?.object).toBeUndefined(); // read by name
  });

  it('adds the StorageClass a claim, a StatefulSet claim template and a PersistentVolume name, and none for an empty class', () => {
    const sts = kubeObject('apps/v1', 'StatefulSet', 'db', 'kafka', {
      spec: { volumeClaimTemplates: [{ spec: { storageClassName: 'ssd' } }] },
    });
    const out = applicationClosure(
      factsOf(
        pvc('data', 'kafka', { storageClassName: 'fast' }),
        pvc('static', 'kafka', { storageClassName: '' }),
        sts,
        pv('pv-1', { storageClassName: 'slow' }),
      ),
      cluster,
    );
    expect(keys(out).filter((k) => k.startsWith(STORAGE))).toEqual([
      `${STORAGE}/fast`,
      `${STORAGE}/ssd`,
      `${STORAGE}/slow`,
    ]);
    expect(reasonOf(out, STORAGE, 'ssd')).toBe(
      'StorageClass named by StatefulSet kafka/db (spec.volumeClaimTemplates[0].spec.storageClassName)',
    );
    expect(reasonOf(out, STORAGE, 'slow')).toBe(
      'StorageClass named by PersistentVolume pv-1 (spec.storageClassName)',
    );
  });

  it('adds the IngressClass an Ingress names by spec.ingressClassName or by the legacy annotation', () => {
    const ingress = (name: string, spec: object, annotations?: Record<string, string>) =>
      kubeObject('networking.k8s.io/v1', 'Ingress', name, 'kafka', { spec }, { annotations });
    const out = applicationClosure(
      factsOf(
        ingress('a', { ingressClassName: 'nginx' }),
        ingress('b', {}, { 'kubernetes.io/ingress.class': 'traefik' }),
      ),
      cluster,
    );
    expect(keys(out).filter((k) => k.startsWith(INGRESS))).toEqual([
      `${INGRESS}/nginx`,
      `${INGRESS}/traefik`,
    ]);
    expect(reasonOf(out, INGRESS, 'traefik')).toBe(
      "IngressClass named by Ingress kafka/b (metadata.annotations['kubernetes.io/ingress.class'])",
    );
  });

  it('adds nothing of a type the user excluded', () => {
    const out = applicationClosure(
      factsOf(kafka, operator, operatorBinding),
      cluster,
      (r) => r !== `clusterroles.${RBAC}`,
    );
    expect(keys(out).some((k) => k.startsWith('clusterroles'))).toBe(false);
    expect(keys(out)).toContain(`${CRDS}/kafkatopics.${group}`);
  });

  it('adds each object once and nothing when the lists could not be read', () => {
    const out = applicationClosure(factsOf(kafka, operator, operatorBinding), cluster);
    expect(new Set(keys(out)).size).toBe(out.length);
    expect(applicationClosure(factsOf(kafka, operator, operatorBinding), {})).toEqual([]);
  });

  it('leaves out what nothing of the selection uses', () => {
    const out = applicationClosure(factsOf(configMap('c', 'kafka'), operator), cluster);
    expect(keys(out)).toEqual(['namespaces/kafka']);
  });
});

describe('grantsType', () => {
  it('is true for a rule naming the group and the plural, or a subresource of it', () => {
    expect(grantsType(rule([group], ['kafkas']) as never, group, 'kafkas')).toBe(true);
    expect(grantsType(rule([group], ['kafkas/status']) as never, group, 'kafkas')).toBe(true);
  });
  it('is true with one wildcard, false with both: that grants everything and names no CRD', () => {
    expect(grantsType(rule([group], ['*']) as never, group, 'kafkas')).toBe(true);
    expect(grantsType(rule(['*'], ['kafkas']) as never, group, 'kafkas')).toBe(true);
    expect(grantsType(rule(['*'], ['*']) as never, group, 'kafkas')).toBe(false);
  });
  it('is false for another group, another type, or no verbs', () => {
    expect(grantsType(rule(['example.com'], ['kafkas']) as never, group, 'kafkas')).toBe(false);
    expect(grantsType(rule([group], ['kafkatopics']) as never, group, 'kafkas')).toBe(false);
    expect(grantsType(rule([group], ['kafkas'], []) as never, group, 'kafkas')).toBe(false);
  });
});

describe('relatedTypes', () => {
  const t = (group: string, resource: string, kind: string, namespaced: boolean) => ({
    group,
    version: 'v1',
    resource,
    kind,
    namespaced,
    verbs: ['get', 'list'],
  });
  const types = [
    t('', 'namespaces', 'Namespace', false),
    t('apiextensions.k8s.io', 'customresourcedefinitions', 'CustomResourceDefinition', false),
    t(RBAC, 'clusterroles', 'ClusterRole', false),
    t(group, 'kafkas', 'Kafka', true),
  ];

  it('keeps the cluster types whatever --include-resources names', () => {
    const sel = selection(['kafka'], { includeResources: ['kafkas'] });
    expect(selectTypes(types, { include: sel.includeResources, exclude: [] })).toHaveLength(1);
    expect(relatedTypes(types, sel).map((x) => x.resource)).toEqual([
      'namespaces',
      'customresourcedefinitions',
      'clusterroles',
      'kafkas',
    ]);
  });

  it('drops a type the user excludes by name', () => {
    const sel = selection(['kafka'], { excludeResources: ['crds', 'clusterroles'] });
    expect(relatedTypes(types, sel).map((x) => x.resource)).toEqual(['namespaces', 'kafkas']);
  });
});

describe('RelatedCollector', () => {
  it('collects the facts of listed objects by their type', () => {
    const c = new RelatedCollector();
    c.observe(
      {
        group: '',
        version: 'v1',
        resource: 'serviceaccounts',
        kind: 'ServiceAccount',
        namespaced: true,
      },
      operator,
    );
    c.observe(
      {
        group: RBAC,
        version: 'v1',
        resource: 'rolebindings',
        kind: 'RoleBinding',
        namespaced: true,
      },
      operatorBinding,
    );
    expect([...c.facts.serviceAccounts]).toEqual(['kafka/operator']);
    expect(c.facts.namesClusterRoles()).toBe(true);
  });
});

describe('planRestore in auto mode', () => {
  it('restores the CRDs the selection is granted, the ClusterRoles its RoleBindings name and what they aggregate, from planning views', () => {
    // As a restore from a spool holds the objects: their planning views.
    const asViewed = (a: ArchivedObject) => ({ ...a, object: planningView(a.object) });
    const plan = planRestore(
      [
        archived(namespace('kafka')),
        archived(operator),
        archived(operatorBinding),
        archived(kafkas),
        archived(topics),
        archived(users),
        archived(operatorRole),
        archived(clusterRole('unrelated', [])),
        archived(aggregatedClusterRole('all', 'example.com/aggregate-to-all')),
        archived(
          clusterRole(
            'part',
            [rule([group], ['kafkausers'])],
            {},
            {
              labels: { 'example.com/aggregate-to-all': 'true' },
            },
          ),
        ),
        archived(roleBindingToClusterRole('all', 'kafka', 'all', [saSubject('operator', 'kafka')])),
      ].map(asViewed),
      wholeSnapshot(),
    );
    expect(plan.crds.map((c) => c.name).sort()).toEqual([
      `kafkas.${group}`,
      `kafkatopics.${group}`,
      `kafkausers.${group}`,
    ]);
    const planned = plan.tiers.flat().map((p) => `${p.resource}/${p.name}`);
    expect(planned).toContain(`clusterroles.${RBAC}/strimzi-cluster-operator`);
    expect(planned).toContain(`clusterroles.${RBAC}/part`);
    expect(planned).not.toContain(`clusterroles.${RBAC}/unrelated`);
    expect(plan.skipped.map((s) => s.name)).toContain('unrelated');
  });

  it('restores the classes the selection names as references, from planning views', () => {
    const viewOf = (a: ArchivedObject) => ({ ...a, object: planningView(a.object, a.resource) });
    const cls = (kind: string, v: string, name: string) => kubeObject(v, kind, name, undefined);
    const plan = planRestore(
      [
        archived(namespace('kafka')),
        archived(
          deployment('web', 'kafka', {
            template: { spec: podSpec({ priorityClassName: 'critical' }) },
          }),
        ),
        archived(pvc('data', 'kafka', { storageClassName: 'fast' })),
        archived(cls('PriorityClass', 'scheduling.k8s.io/v1', 'critical')),
        archived(cls('StorageClass', 'storage.k8s.io/v1', 'fast')),
        archived(cls('StorageClass', 'storage.k8s.io/v1', 'unused')),
      ].map(viewOf),
      wholeSnapshot(),
    );
    const planned = plan.tiers.flat().map((p) => `${p.resource}/${p.name}`);
    expect(planned).toContain(`${PRIORITY}/critical`);
    expect(planned).toContain(`${STORAGE}/fast`);
    expect(planned).not.toContain(`${STORAGE}/unused`);
  });
});
