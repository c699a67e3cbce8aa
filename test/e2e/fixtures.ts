// Builders for the objects e2e tests put into the real cluster. Builders over YAML: each
// takes the few fields a test cares about and fills in the rest.
import type * as k8s from '@kubernetes/client-node';
import {
  fewSeatsPriorityLevel as fewSeats,
  flowSchemaFor as flowSchema,
} from '../cluster/flow-control.js';
import { objects } from './helpers.js';

export type Obj = k8s.KubernetesObject & Record<string, unknown>;

export const namespace = (name: string, labels: Record<string, string> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

export const configMap = (
  ns: string,
  name: string,
  data: Record<string, string> = { key: 'value' },
  labels: Record<string, string> = {},
): Obj => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels },
  data,
});

export const secret = (
  ns: string,
  name: string,
  stringData: Record<string, string>,
  type = 'Opaque',
): Obj => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns },
  type,
  stringData,
});

export const serviceAccount = (ns: string, name: string): Obj => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name, namespace: ns },
});

export const roleBinding = (
  ns: string,
  name: string,
  clusterRole: string,
  saName: string,
  saNamespace = ns,
): Obj => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name, namespace: ns },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
  subjects: [{ kind: 'ServiceAccount', name: saName, namespace: saNamespace }],
});

export const clusterRoleBinding = (
  name: string,
  clusterRole: string,
  saName: string,
  saNamespace: string,
): Obj => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
  subjects: [{ kind: 'ServiceAccount', name: saName, namespace: saNamespace }],
});

export const clusterRole = (
  name: string,
  rules: unknown[] = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
): Obj => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name },
  rules,
});

const podSpec = (image = 'nginx:1.27') => ({ containers: [{ name: 'app', image }] });

export const deployment = (
  ns: string,
  name: string,
  replicas = 1,
  labels: Record<string, string> = { app: name },
): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns, labels },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: podSpec() },
  },
});

/** A workload whose Pod template has these fields too (priorityClassName, …). */
export const withPodSpec = (workload: Obj, fields: Record<string, unknown>): Obj => {
  const spec = workload.spec as { template: { spec: Record<string, unknown> } };
  return {
    ...workload,
    spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, ...fields } } },
  };
};

export const priorityClass = (name: string, value = 1000): Obj => ({
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  metadata: { name },
  value,
});

/** A StorageClass with no provisioner: claims of it bind to pre-made volumes only. */
export const storageClass = (name: string, labels: Record<string, string> = {}): Obj => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name, labels },
  provisioner: 'kubernetes.io/no-provisioner',
  volumeBindingMode: 'WaitForFirstConsumer',
});

export const statefulSet = (ns: string, name: string): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name, namespace: ns },
  spec: {
    serviceName: name,
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: podSpec() },
  },
});

export const service = (ns: string, name: string, spec: Record<string, unknown> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
});

export const cronJob = (ns: string, name: string, schedule = '0 3 * * *'): Obj => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name, namespace: ns },
  spec: {
    schedule,
    jobTemplate: {
      spec: {
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: 'busybox' }] },
        },
      },
    },
  },
});

export const networkPolicy = (ns: string, name: string): Obj => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: ns },
  spec: {
    podSelector: { matchLabels: { app: 'web' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: {} }] }],
  },
});

/** A statically provisioned volume (reclaim policy Retain), pre-bound to a claim. */
export const persistentVolume = (name: string, claimNs: string, claimName: string): Obj => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name },
  spec: {
    capacity: { storage: '1Gi' },
    accessModes: ['ReadWriteOnce'],
    persistentVolumeReclaimPolicy: 'Retain',
    storageClassName: 'manual',
    hostPath: { path: `/tmp/${name}` },
    claimRef: { namespace: claimNs, name: claimName },
  },
});

export const persistentVolumeClaim = (
  ns: string,
  name: string,
  volumeName?: string,
  storageClassName = 'manual',
): Obj => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: ns },
  spec: {
    accessModes: ['ReadWriteOnce'],
    storageClassName,
    resources: { requests: { storage: '1Gi' } },
    ...(volumeName ? { volumeName } : {}),
  },
});

/** A namespaced CRD `<plural>.<group>` with an open schema. */
export const crd = (group: string, kind: string, plural: string): Obj => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            // client-node's serializer knows this field by its model name; the JSON
            // spelling would be dropped and the server would prune every spec field.
            properties: { spec: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
          },
        },
      },
    ],
  },
});

export const customResource = (
  group: string,
  kind: string,
  ns: string,
  name: string,
  spec: Record<string, unknown> = {},
): Obj => ({
  apiVersion: `${group}/v1`,
  kind,
  metadata: { name, namespace: ns },
  spec,
});

/** The API Priority and Fairness builders, shared with the benchmark. */
export const fewSeatsPriorityLevel = (...a: Parameters<typeof fewSeats>): Obj => fewSeats(...a);
export const flowSchemaFor = (...a: Parameters<typeof flowSchema>): Obj => flowSchema(...a);

/** Creates objects in order with the admin credentials (or the given kubeconfig). */
export async function create(items: Obj[], kubeconfig?: string): Promise<void> {
  const api = objects(kubeconfig);
  for (const o of items) await api.create(o);
}

/** Waits until a CRD is Established, so its custom resources can be created. */
export async function waitEstablished(name: string): Promise<void> {
  const api = objects();
  for (let i = 0; i < 100; i++) {
    const c = (await api.read({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name },
    })) as Obj;
    const conds =
      (c.status as { conditions?: { type: string; status: string }[] })?.conditions ?? [];
    if (conds.some((x) => x.type === 'Established' && x.status === 'True')) {
      await new Promise((r) => setTimeout(r, 500)); // discovery catches up
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`CRD ${name} not Established`);
}
