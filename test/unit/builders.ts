// Small builders for Kubernetes objects in unit tests: each makes the minimal object as a
// client would write it; `served()` adds what the API server adds when it stores one.

import {
  type KubeObject,
  type ObjectMeta,
  type OwnerReference,
  qualifiedResource,
  type Selection,
} from '../../src/core/types.js';
import type { ArchivedObject } from '../../src/restore/load.js';
import type { RestoreOptions } from '../../src/restore/plan.js';

type Fields = Record<string, unknown>;
type Meta = Partial<ObjectMeta>;

export function kubeObject(
  apiVersion: string,
  kind: string,
  name: string,
  namespace: string | undefined,
  fields: Fields = {},
  meta: Meta = {},
): KubeObject {
  return {
    apiVersion,
    kind,
    metadata: { name, ...(namespace === undefined ? {} : { namespace }), ...meta },
    ...fields,
  };
}

let uidCounter = 0;

/** Adds server-set metadata (uid, resourceVersion, timestamps, managedFields) as a GET returns it. */
export function served<T extends KubeObject>(obj: T, managedFields: unknown[] = []): T {
  uidCounter++;
  return {
    ...obj,
    metadata: {
      uid: `00000000-0000-0000-0000-${String(uidCounter).padStart(12, '0')}`,
      resourceVersion: String(1000 + uidCounter),
      generation: 1,
      creationTimestamp: '2024-05-01T10:00:00Z',
      managedFields,
      ...obj.metadata,
    },
  };
}

/** An owner reference to `owner`, a controller reference unless `controller` is false. */
export function ownerRef(owner: KubeObject, controller = true): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? 'owner-uid',
    controller,
    blockOwnerDeletion: true,
  };
}

export function ownedBy<T extends KubeObject>(obj: T, owner: KubeObject, controller = true): T {
  return { ...obj, metadata: { ...obj.metadata, ownerReferences: [ownerRef(owner, controller)] } };
}

export function withLabels<T extends KubeObject>(obj: T, labels: Record<string, string>): T {
  return { ...obj, metadata: { ...obj.metadata, labels: { ...obj.metadata.labels, ...labels } } };
}

export function withAnnotations<T extends KubeObject>(
  obj: T,
  annotations: Record<string, string>,
): T {
  return {
    ...obj,
    metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, ...annotations } },
  };
}

export function withStatus<T extends KubeObject>(obj: T, status: Fields): T {
  return { ...obj, status };
}

const container = (name = 'app', extra: Fields = {}): Fields => ({
  name,
  image: 'nginx:1.27',
  ...extra,
});

export function podSpec(extra: Fields = {}): Fields {
  return { containers: [container()], ...extra };
}

export function pod(
  name: string,
  namespace: string,
  spec: Fields = {},
  meta: Meta = {},
): KubeObject {
  return kubeObject('v1', 'Pod', name, namespace, { spec: podSpec(spec) }, meta);
}

/** The projected token volume the ServiceAccount admission plugin injects. */
export function apiAccessVolume(name = 'kube-api-access-x7k2p'): Fields {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [
              {
                path: 'namespace',
                fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' },
              },
            ],
          },
        },
      ],
    },
  };
}

export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A served Pod as admission left it: token volume injected and mounted, scheduled to a node. */
export function scheduledPod(
  name: string,
  namespace: string,
  spec: Fields = {},
  tokenVolume = 'kube-api-access-x7k2p',
): KubeObject {
  return pod(name, namespace, {
    containers: [
      container('app', {
        volumeMounts: [{ name: tokenVolume, mountPath: TOKEN_MOUNT_PATH, readOnly: true }],
      }),
    ],
    volumes: [apiAccessVolume(tokenVolume)],
    nodeName: 'node-1',
    serviceAccountName: 'default',
    priority: 0,
    preemptionPolicy: 'PreemptLowerPriority',
    ...spec,
  });
}

export function deployment(
  name: string,
  namespace: string,
  spec: Fields = {},
  meta: Meta = {},
): KubeObject {
  return kubeObject(
    'apps/v1',
    'Deployment',
    name,
    namespace,
    {
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: podSpec() },
        ...spec,
      },
    },
    meta,
  );
}

export function replicaSet(name: string, namespace: string, spec: Fields = {}): KubeObject {
  return kubeObject('apps/v1', 'ReplicaSet', name, namespace, {
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, ...spec },
  });
}

export function statefulSet(name: string, namespace: string): KubeObject {
  return kubeObject('apps/v1', 'StatefulSet', name, namespace, {
    spec: {
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: podSpec() },
    },
  });
}

export function cronJob(name: string, namespace: string): KubeObject {
  return kubeObject('batch/v1', 'CronJob', name, namespace, {
    spec: {
      schedule: '0 2 * * *',
      jobTemplate: { spec: { template: { spec: podSpec({ restartPolicy: 'Never' }) } } },
    },
  });
}

/** A Job as the server stores it: generated selector and template labels carrying its UID. */
export function job(
  name: string,
  namespace: string,
  uid = 'job-uid-1',
  spec: Fields = {},
): KubeObject {
  const uidLabels = { 'controller-uid': uid, 'batch.kubernetes.io/controller-uid': uid };
  const nameLabels = { 'job-name': name, 'batch.kubernetes.io/job-name': name };
  return kubeObject(
    'batch/v1',
    'Job',
    name,
    namespace,
    {
      spec: {
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
        template: {
          metadata: { labels: { ...uidLabels, ...nameLabels } },
          spec: podSpec({ restartPolicy: 'Never' }),
        },
        ...spec,
      },
    },
    { uid, labels: { ...uidLabels, ...nameLabels } },
  );
}

export function servicePort(port: number, extra: Fields = {}): Fields {
  return { port, protocol: 'TCP', targetPort: port, ...extra };
}

export function service(
  name: string,
  namespace: string,
  spec: Fields = {},
  meta: Meta = {},
): KubeObject {
  return kubeObject(
    'v1',
    'Service',
    name,
    namespace,
    {
      spec: {
        type: 'ClusterIP',
        selector: { app: name },
        clusterIP: '10.96.12.34',
        clusterIPs: ['10.96.12.34'],
        ports: [servicePort(80)],
        ...spec,
      },
    },
    meta,
  );
}

/** A managedFields entry of `manager` owning the given fieldsV1. */
export function managedBy(manager: string, fieldsV1: Fields, extra: Fields = {}): Fields {
  return {
    manager,
    operation: 'Update',
    apiVersion: 'v1',
    time: '2024-05-01T10:00:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1,
    ...extra,
  };
}

export function configMap(
  name: string,
  namespace: string,
  data: Record<string, string> = {},
): KubeObject {
  return kubeObject('v1', 'ConfigMap', name, namespace, { data });
}

export function secret(
  name: string,
  namespace: string,
  data: Record<string, string> = {},
  type = 'Opaque',
  meta: Meta = {},
): KubeObject {
  return kubeObject('v1', 'Secret', name, namespace, { type, data }, meta);
}

export function serviceAccount(name: string, namespace: string, fields: Fields = {}): KubeObject {
  return kubeObject('v1', 'ServiceAccount', name, namespace, fields);
}

export function namespace(name: string, fields: Fields = {}, meta: Meta = {}): KubeObject {
  return kubeObject('v1', 'Namespace', name, undefined, fields, {
    labels: { 'kubernetes.io/metadata.name': name },
    ...meta,
  });
}

export function pvc(
  name: string,
  namespace: string,
  spec: Fields = {},
  meta: Meta = {},
): KubeObject {
  return kubeObject(
    'v1',
    'PersistentVolumeClaim',
    name,
    namespace,
    {
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
        storageClassName: 'standard',
        ...spec,
      },
    },
    meta,
  );
}

export function pv(name: string, spec: Fields = {}, meta: Meta = {}): KubeObject {
  return kubeObject(
    'v1',
    'PersistentVolume',
    name,
    undefined,
    {
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: { path: `/data/${name}` },
        ...spec,
      },
    },
    meta,
  );
}

export function roleBinding(name: string, namespace: string, subjects: Fields[]): KubeObject {
  return kubeObject('rbac.authorization.k8s.io/v1', 'RoleBinding', name, namespace, {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects,
  });
}

/** A RoleBinding granting `subjects` the ClusterRole `clusterRole` in `namespace`. */
export function roleBindingToClusterRole(
  name: string,
  namespace: string,
  clusterRole: string,
  subjects: Fields[],
): KubeObject {
  return kubeObject('rbac.authorization.k8s.io/v1', 'RoleBinding', name, namespace, {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
    subjects,
  });
}

/** A policy rule: `verbs` on `resources` of `apiGroups`. */
export function rule(apiGroups: string[], resources: string[], verbs = ['get', 'list']): Fields {
  return { apiGroups, resources, verbs };
}

export function role(name: string, namespace: string, rules: Fields[]): KubeObject {
  return kubeObject('rbac.authorization.k8s.io/v1', 'Role', name, namespace, { rules });
}

export function clusterRole(
  name: string,
  rules: Fields[],
  fields: Fields = {},
  meta: Meta = {},
): KubeObject {
  return kubeObject(
    'rbac.authorization.k8s.io/v1',
    'ClusterRole',
    name,
    undefined,
    {
      rules,
      ...fields,
    },
    meta,
  );
}

/** A ClusterRole aggregating the ClusterRoles labelled `label: "true"`, rules as computed. */
export function aggregatedClusterRole(
  name: string,
  label: string,
  computed: Fields[] = [],
): KubeObject {
  return clusterRole(name, computed, {
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [label]: 'true' } }] },
  });
}

export function crd(group: string, kind: string, plural: string): KubeObject {
  return kubeObject(
    'apiextensions.k8s.io/v1',
    'CustomResourceDefinition',
    `${plural}.${group}`,
    undefined,
    {
      spec: {
        group,
        names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true }],
      },
    },
  );
}

export function clusterRoleBinding(name: string, subjects: Fields[]): KubeObject {
  return kubeObject('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', name, undefined, {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects,
  });
}

export function saSubject(name: string, namespace: string): Fields {
  return { kind: 'ServiceAccount', name, namespace };
}

export function endpoints(
  name: string,
  namespace: string,
  labels: Record<string, string> = {},
): KubeObject {
  return kubeObject(
    'v1',
    'Endpoints',
    name,
    namespace,
    { subsets: [{ addresses: [{ ip: '10.0.0.5' }], ports: [{ port: 5432 }] }] },
    { labels },
  );
}

export function endpointSlice(
  name: string,
  namespace: string,
  labels: Record<string, string> = {},
): KubeObject {
  return kubeObject(
    'discovery.k8s.io/v1',
    'EndpointSlice',
    name,
    namespace,
    { addressType: 'IPv4', endpoints: [], ports: [] },
    { labels },
  );
}

export function event(name: string, namespace: string, apiVersion = 'v1'): KubeObject {
  return kubeObject(apiVersion, 'Event', name, namespace, {
    reason: 'Scheduled',
    message: 'assigned',
  });
}

export function lease(name: string, namespace: string): KubeObject {
  return kubeObject('coordination.k8s.io/v1', 'Lease', name, namespace, {
    spec: { holderIdentity: name, leaseDurationSeconds: 40 },
  });
}

const RESOURCES: Record<string, { group: string; resource: string }> = {
  Deployment: { group: 'apps', resource: 'deployments' },
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  ConfigMap: { group: '', resource: 'configmaps' },
  Secret: { group: '', resource: 'secrets' },
  Service: { group: '', resource: 'services' },
  Job: { group: 'batch', resource: 'jobs' },
  RoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
  Role: { group: 'rbac.authorization.k8s.io', resource: 'roles' },
  ServiceAccount: { group: '', resource: 'serviceaccounts' },
  Namespace: { group: '', resource: 'namespaces' },
  PersistentVolume: { group: '', resource: 'persistentvolumes' },
  PersistentVolumeClaim: { group: '', resource: 'persistentvolumeclaims' },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
  ClusterRole: { group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
  CustomResourceDefinition: {
    group: 'apiextensions.k8s.io',
    resource: 'customresourcedefinitions',
  },
  Widget: { group: 'example.com', resource: 'widgets' },
  PriorityClass: { group: 'scheduling.k8s.io', resource: 'priorityclasses' },
  StorageClass: { group: 'storage.k8s.io', resource: 'storageclasses' },
  Ingress: { group: 'networking.k8s.io', resource: 'ingresses' },
  StatefulSet: { group: 'apps', resource: 'statefulsets' },
  Pod: { group: '', resource: 'pods' },
  IPAddress: { group: 'networking.k8s.io', resource: 'ipaddresses' },
  APIService: { group: 'apiregistration.k8s.io', resource: 'apiservices' },
};

/** What the archive holds for an object: its entry location and the object as served. */
export function archived(obj: KubeObject): ArchivedObject {
  const r = RESOURCES[obj.kind];
  if (!r) throw new Error(`no resource for ${obj.kind}`);
  const o = served(obj);
  return {
    resource: qualifiedResource(r),
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    name: o.metadata.name,
    object: o,
  };
}

/** A backup's selection of these namespaces, everything else at its default. */
export function selection(namespaces: string[], extra: Partial<Selection> = {}): Selection {
  return {
    namespaces,
    allNamespaces: false,
    excludeNamespaces: [],
    includeResources: [],
    excludeResources: [],
    includeClusterResources: 'auto',
    ...extra,
  };
}

/** What a restore of everything in the snapshot plans with. */
export function wholeSnapshot(extra: Partial<RestoreOptions> = {}): RestoreOptions {
  return {
    namespaces: [],
    mapping: new Map(),
    includeResources: [],
    excludeResources: [],
    includeClusterResources: 'auto',
    preserveNodePorts: false,
    ...extra,
  };
}

/** A Velero Schedule (velero.io/v1) as `velero schedule create` writes it, in namespace velero. */
export function veleroSchedule(
  name: string,
  schedule: string,
  template: Fields = {},
  spec: Fields = {},
): KubeObject {
  return kubeObject('velero.io/v1', 'Schedule', name, 'velero', {
    spec: { schedule, template, ...spec },
  });
}
