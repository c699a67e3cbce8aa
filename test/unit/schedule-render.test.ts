// The manifests `schedule create` applies, rendered from options and a discovery result:
// namespaced and all-namespaces schedules, read-only RBAC, the Secret, the CronJob.
import { describe, expect, it } from 'vitest';
import type { KubeObject, Selection } from '../../src/core/types.js';
import type { DiscoveredType } from '../../src/kube/discovery.js';
import {
  containerStorageUrl,
  execArgs,
  grantedVerbs,
  type PolicyRule,
  rbacRules,
  renderSchedule,
  type ScheduleSpec,
  validateScheduleName,
} from '../../src/schedule/render.js';
import { isScheduledSnapshotName, scheduledSnapshotName } from '../../src/snapshots/scheduled.js';
import type { S3Location } from '../../src/storage/s3-location.js';

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const type = (
  group: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  verbs = RW,
): DiscoveredType => ({
  group,
  version: group === '' ? 'v1' : 'v1',
  resource,
  kind,
  namespaced,
  verbs,
  shortNames: [],
  singular: kind.toLowerCase(),
});

/** A small but realistic discovery result (subresources are already left out by discover). */
const TYPES: DiscoveredType[] = [
  type('', 'configmaps', 'ConfigMap', true),
  type('', 'secrets', 'Secret', true),
  type('', 'pods', 'Pod', true),
  type('', 'serviceaccounts', 'ServiceAccount', true),
  type('', 'persistentvolumeclaims', 'PersistentVolumeClaim', true),
  type('', 'events', 'Event', true),
  type('', 'bindings', 'Binding', true, ['create']),
  type('', 'namespaces', 'Namespace', false),
  type('', 'nodes', 'Node', false),
  type('', 'persistentvolumes', 'PersistentVolume', false),
  type('apps', 'deployments', 'Deployment', true),
  type('rbac.authorization.k8s.io', 'roles', 'Role', true),
  type('rbac.authorization.k8s.io', 'rolebindings', 'RoleBinding', true),
  type('rbac.authorization.k8s.io', 'clusterroles', 'ClusterRole', false),
  type('rbac.authorization.k8s.io', 'clusterrolebindings', 'ClusterRoleBinding', false),
  type('apiextensions.k8s.io', 'customresourcedefinitions', 'CustomResourceDefinition', false),
  type('storage.k8s.io', 'storageclasses', 'StorageClass', false),
  type('example.com', 'widgets', 'Widget', true),
  type('authorization.k8s.io', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true, [
    'create',
  ]),
];

const selection = (over: Partial<Selection> = {}): Selection => ({
  namespaces: ['shop', 'web'],
  allNamespaces: false,
  excludeNamespaces: [],
  includeResources: [],
  excludeResources: [],
  includeClusterResources: 'auto',
  ...over,
});

const STORAGE: S3Location = {
  kind: 's3',
  bucket: 'backups',
  prefix: 'prod',
  endpoint: 'https://minio.example.com:9000',
  region: 'us-east-1',
  pathStyle: true,
};
const URL =
  's3://backups/prod?endpoint=https://minio.example.com:9000&region=us-east-1&pathStyle=true';

const spec = (over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
  name: 'nightly',
  installNamespace: 'kubectl-snapshot',
  schedule: '0 2 * * *',
  timeZone: 'Europe/Berlin',
  suspend: false,
  image: 'registry.example.com/kubectl-snapshot:v0.1.0',
  storage: STORAGE,
  selection: selection(),
  ttl: '720h',
  labels: { team: 'payments' },
  encryptTo: [],
  keep: { last: 3, daily: 7, weekly: 4 },
  ...over,
});

const CREDS = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalr/secret+key' };

const find = (objs: KubeObject[], kind: string, namespace?: string) =>
  objs.filter(
    (o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace),
  );
const one = (objs: KubeObject[], kind: string, namespace?: string) => {
  const found = find(objs, kind, namespace);
  expect(found).toHaveLength(1);
  return found[0] as KubeObject;
};
const LABELS = {
  'app.kubernetes.io/managed-by': 'kubectl-snapshot',
  'kubectl-snapshot/schedule': 'nightly',
  'kubectl-snapshot/schedule-namespace': 'kubectl-snapshot',
};
const RBAC_NAME = 'kubectl-snapshot:kubectl-snapshot:nightly';

interface PodSpecView {
  serviceAccountName: string;
  restartPolicy: string;
  containers: {
    image: string;
    command: string[];
    args: string[];
    env?: unknown[];
    envFrom: unknown[];
    volumeMounts: { name: string; mountPath: string }[];
  }[];
  volumes: { name: string; configMap?: { name: string } }[];
}
const podSpec = (cron: KubeObject) =>
  (cron.spec as { jobTemplate: { spec: { template: { spec: PodSpecView } } } }).jobTemplate.spec
    .template.spec;

describe('renderSchedule: a namespaced schedule (-n shop -n web)', () => {
  const r = renderSchedule({ spec: spec(), types: TYPES, credentials: CREDS });
  const objs = r.objects;

  it('makes a ServiceAccount, Secret, ClusterRole(+Binding), a Role(+Binding) per namespace, then the CronJob', () => {
    expect(objs.map((o) => `${o.kind} ${o.metadata.namespace ?? '-'} ${o.metadata.name}`)).toEqual([
      'ServiceAccount kubectl-snapshot kubectl-snapshot-nightly',
      'Secret kubectl-snapshot kubectl-snapshot-nightly',
      `ClusterRole - ${RBAC_NAME}`,
      `ClusterRoleBinding - ${RBAC_NAME}`,
      `Role shop ${RBAC_NAME}`,
      `RoleBinding shop ${RBAC_NAME}`,
      `Role web ${RBAC_NAME}`,
      `RoleBinding web ${RBAC_NAME}`,
      'CronJob kubectl-snapshot nightly',
    ]);
    expect(r.namespace).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'kubectl-snapshot',
        labels: { 'app.kubernetes.io/managed-by': 'kubectl-snapshot' },
      },
    });
  });

  it('labels every object so that delete finds it', () => {
    for (const o of objs) expect(o.metadata.labels).toEqual(LABELS);
  });

  it('grants get and list only: nothing that writes, nothing cluster-wide that is namespaced', () => {
    expect(grantedVerbs(r.rbac)).toEqual(['get', 'list']);
    for (const o of [...find(objs, 'Role'), ...find(objs, 'ClusterRole')])
      for (const rule of o.rules as PolicyRule[]) {
        expect(rule.verbs.every((v) => v === 'get' || v === 'list')).toBe(true);
        expect(rule.resources.some((x) => x.includes('/') || x === '*')).toBe(false);
        expect(rule.apiGroups).not.toContain('*');
      }
  });

  it('each Role reads exactly the selected namespaced types, Secrets included', () => {
    const expected: PolicyRule[] = [
      {
        apiGroups: [''],
        resources: ['configmaps', 'persistentvolumeclaims', 'pods', 'secrets', 'serviceaccounts'],
        verbs: ['get', 'list'],
      },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
      { apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list'] },
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['rolebindings', 'roles'],
        verbs: ['get', 'list'],
      },
    ];
    expect(one(objs, 'Role', 'shop').rules).toEqual(expected);
    expect(one(objs, 'Role', 'web').rules).toEqual(expected);
  });

  it('the ClusterRole has only the cluster-wide reads: these Namespaces by name and related types', () => {
    expect(one(objs, 'ClusterRole').rules).toEqual([
      {
        apiGroups: [''],
        resources: ['namespaces'],
        resourceNames: ['shop', 'web'],
        verbs: ['get'],
      },
      { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list'] },
      {
        apiGroups: ['apiextensions.k8s.io'],
        resources: ['customresourcedefinitions'],
        verbs: ['get', 'list'],
      },
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['clusterrolebindings', 'clusterroles'],
        verbs: ['get', 'list'],
      },
    ]);
    const text = JSON.stringify(one(objs, 'ClusterRole').rules);
    expect(text).not.toContain('secrets');
    expect(text).not.toContain('configmaps');
  });

  it('binds the ServiceAccount, and only it', () => {
    const subjects = [
      { kind: 'ServiceAccount', name: 'kubectl-snapshot-nightly', namespace: 'kubectl-snapshot' },
    ];
    expect(one(objs, 'RoleBinding', 'shop')).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: RBAC_NAME },
      subjects,
    });
    expect(one(objs, 'ClusterRoleBinding')).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: RBAC_NAME },
      subjects,
    });
  });

  it('keeps the credentials in the Secret, base64-encoded', () => {
    expect(one(objs, 'Secret')).toMatchObject({
      type: 'Opaque',
      data: {
        AWS_ACCESS_KEY_ID: Buffer.from('AKIAEXAMPLE').toString('base64'),
        AWS_SECRET_ACCESS_KEY: Buffer.from('wJalr/secret+key').toString('base64'),
      },
    });
  });

  it('the CronJob: Forbid, history limits, deadline, time zone, the ServiceAccount', () => {
    const cron = one(objs, 'CronJob');
    expect(cron.spec).toMatchObject({
      schedule: '0 2 * * *',
      timeZone: 'Europe/Berlin',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      suspend: false,
    });
    const pod = podSpec(cron);
    expect(pod.serviceAccountName).toBe('kubectl-snapshot-nightly');
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers[0]?.image).toBe('registry.example.com/kubectl-snapshot:v0.1.0');
  });

  it('runs the same binary: schedule exec = backup with the schedule label, then prune', () => {
    const c = podSpec(one(objs, 'CronJob')).containers[0];
    expect(c?.command).toEqual(['/kubectl-snapshot']);
    expect(c?.args).toEqual([
      'schedule',
      'exec',
      'nightly',
      '--no-progress',
      '--storage',
      URL,
      '--namespace',
      'shop',
      '--namespace',
      'web',
      '--include-cluster-resources',
      'auto',
      '--ttl',
      '720h',
      '--labels',
      'team=payments',
      '--keep-last',
      '3',
      '--keep-daily',
      '7',
      '--keep-weekly',
      '4',
      '--time-zone',
      'Europe/Berlin',
    ]);
  });

  it('credentials reach the container only through the Secret', () => {
    const cron = one(objs, 'CronJob');
    const c = podSpec(cron).containers[0];
    expect(c?.envFrom).toEqual([{ secretRef: { name: 'kubectl-snapshot-nightly' } }]);
    expect(c?.env).toBeUndefined();
    const text = JSON.stringify(objs.filter((o) => o.kind !== 'Secret'));
    for (const v of Object.values(CREDS)) {
      expect(text).not.toContain(v);
      expect(text).not.toContain(Buffer.from(v).toString('base64'));
    }
  });

  it('a dry run redacts the Secret so that it cannot be applied by mistake', () => {
    const red = renderSchedule({ spec: spec(), types: TYPES, credentials: CREDS, redact: true });
    expect(one(red.objects, 'Secret').data).toEqual({
      AWS_ACCESS_KEY_ID: '<redacted>',
      AWS_SECRET_ACCESS_KEY: '<redacted>',
    });
    expect(JSON.stringify(red)).not.toContain('AKIAEXAMPLE');
    // Everything else is identical.
    expect(red.objects.filter((o) => o.kind !== 'Secret')).toEqual(
      objs.filter((o) => o.kind !== 'Secret'),
    );
  });

  it('adds a session token only when there is one', () => {
    const withToken = renderSchedule({
      spec: spec(),
      types: TYPES,
      credentials: { ...CREDS, AWS_SESSION_TOKEN: 'tok' },
    });
    expect(Object.keys(one(withToken.objects, 'Secret').data as object)).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
    ]);
  });
});

describe('renderSchedule: an all-namespaces schedule (-A --exclude-namespace kube-system)', () => {
  const sel = selection({
    namespaces: [],
    allNamespaces: true,
    excludeNamespaces: ['kube-system'],
  });
  const r = renderSchedule({
    spec: spec({ selection: sel, timeZone: undefined, suspend: true }),
    types: TYPES,
    credentials: CREDS,
  });

  it('has no Roles: one ClusterRole reads every selected type in every namespace', () => {
    expect(find(r.objects, 'Role')).toEqual([]);
    expect(find(r.objects, 'RoleBinding')).toEqual([]);
    expect(one(r.objects, 'ClusterRole').rules).toEqual([
      {
        apiGroups: [''],
        resources: [
          'configmaps',
          'namespaces',
          'persistentvolumeclaims',
          'persistentvolumes',
          'pods',
          'secrets',
          'serviceaccounts',
        ],
        verbs: ['get', 'list'],
      },
      {
        apiGroups: ['apiextensions.k8s.io'],
        resources: ['customresourcedefinitions'],
        verbs: ['get', 'list'],
      },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
      { apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list'] },
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['clusterrolebindings', 'clusterroles', 'rolebindings', 'roles'],
        verbs: ['get', 'list'],
      },
    ]);
    expect(grantedVerbs(r.rbac)).toEqual(['get', 'list']);
  });

  it('passes -A and the exclusions; no timeZone field; suspended; retention in UTC', () => {
    const cron = one(r.objects, 'CronJob');
    expect((cron.spec as Record<string, unknown>).timeZone).toBeUndefined();
    expect((cron.spec as Record<string, unknown>).suspend).toBe(true);
    const args = podSpec(cron).containers[0]?.args ?? [];
    expect(args.slice(0, 12)).toEqual([
      'schedule',
      'exec',
      'nightly',
      '--no-progress',
      '--storage',
      URL,
      '--all-namespaces',
      '--exclude-namespace',
      'kube-system',
      '--include-cluster-resources',
      'auto',
      '--ttl',
    ]);
    expect(args).not.toContain('--namespace');
    expect(args.slice(-2)).toEqual(['--time-zone', 'UTC']);
  });
});

describe('rbacRules follows the backup selection', () => {
  it('--exclude-resources secrets: the schedule cannot read Secrets anywhere', () => {
    const plan = rbacRules(selection({ excludeResources: ['secrets'] }), TYPES);
    expect(JSON.stringify(plan)).not.toContain('secrets');
  });

  it('--include-resources configmaps,deployments: just those (and the Namespaces by name)', () => {
    const plan = rbacRules(
      selection({ includeResources: ['configmaps', 'deploy'], includeClusterResources: 'auto' }),
      [
        ...TYPES.slice(0, 10),
        { ...type('apps', 'deployments', 'Deployment', true), shortNames: ['deploy'] },
      ],
    );
    expect(plan.namespaceRules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
    ]);
    expect(plan.clusterRules).toEqual([
      {
        apiGroups: [''],
        resources: ['namespaces'],
        resourceNames: ['shop', 'web'],
        verbs: ['get'],
      },
    ]);
  });

  it('--include-cluster-resources false: only the Namespaces by name, cluster-wide', () => {
    const plan = rbacRules(selection({ includeClusterResources: 'false' }), TYPES);
    expect(plan.clusterRules).toEqual([
      {
        apiGroups: [''],
        resources: ['namespaces'],
        resourceNames: ['shop', 'web'],
        verbs: ['get'],
      },
    ]);
  });

  it('--include-cluster-resources true: every selected cluster type, but not default-excluded nodes', () => {
    const plan = rbacRules(selection({ includeClusterResources: 'true' }), TYPES);
    const resources = plan.clusterRules.flatMap((r) => r.resources).sort();
    expect(resources).toEqual([
      'clusterrolebindings',
      'clusterroles',
      'customresourcedefinitions',
      'namespaces',
      'persistentvolumes',
      'storageclasses',
    ]);
    expect(plan.clusterRules.some((r) => r.resourceNames)).toBe(false);
  });

  it('--exclude-namespace removes a namespace from -n; duplicates collapse', () => {
    const plan = rbacRules(
      selection({ namespaces: ['web', 'shop', 'web'], excludeNamespaces: ['web'] }),
      TYPES,
    );
    expect(plan.namespaces).toEqual(['shop']);
    expect(plan.clusterRules[0]?.resourceNames).toEqual(['shop']);
  });

  it('an unknown --include-resources name is an error, as for backup', () => {
    expect(() => rbacRules(selection({ includeResources: ['gizmos'] }), TYPES)).toThrow(
      /no resource type "gizmos"/,
    );
  });
});

describe('storage with a private CA', () => {
  const loc: S3Location = { ...STORAGE, caFile: '/home/me/ca.pem' };
  const r = renderSchedule({
    spec: spec({ storage: loc }),
    types: TYPES,
    credentials: CREDS,
    caPem: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n',
  });

  it('puts the CA in a ConfigMap, mounts it, and points caFile at the mount', () => {
    expect(one(r.objects, 'ConfigMap')).toMatchObject({
      metadata: { name: 'kubectl-snapshot-nightly-ca', namespace: 'kubectl-snapshot' },
      data: { 'ca.pem': expect.stringContaining('BEGIN CERTIFICATE') },
    });
    const pod = podSpec(one(r.objects, 'CronJob'));
    expect(pod.volumes).toContainEqual({
      name: 'storage-ca',
      configMap: { name: 'kubectl-snapshot-nightly-ca' },
    });
    expect(pod.containers[0]?.volumeMounts).toContainEqual({
      name: 'storage-ca',
      mountPath: '/etc/kubectl-snapshot/ca',
      readOnly: true,
    });
    const args = pod.containers[0]?.args ?? [];
    expect(args[args.indexOf('--storage') + 1]).toBe(
      `${URL}&caFile=/etc/kubectl-snapshot/ca/ca.pem`,
    );
    expect(containerStorageUrl(loc, false)).toBe(URL);
  });
});

describe('names', () => {
  it.each(['nightly', 'a', 'x'.repeat(52), 'prod-db-2'])('%s is a valid schedule name', (n) =>
    expect(() => validateScheduleName(n)).not.toThrow(),
  );
  it.each(['', 'Nightly', 'x'.repeat(53), '-a', 'a_b', 'a.b'])('%j is not', (n) =>
    expect(() => validateScheduleName(n)).toThrow(/invalid schedule name/),
  );

  it('scheduled snapshots are <schedule>-<UTC timestamp>, recognisable per schedule', () => {
    const name = scheduledSnapshotName('nightly', new Date('2026-11-24T02:00:05Z'));
    expect(name).toBe('nightly-20261124-020005');
    expect(isScheduledSnapshotName('nightly', name)).toBe(true);
    expect(isScheduledSnapshotName('night', name)).toBe(false);
    expect(isScheduledSnapshotName('nightly', 'nightly-extra-20261124-020005')).toBe(false);
    const long = 'x'.repeat(52);
    const longName = scheduledSnapshotName(long, new Date('2026-11-24T02:00:05Z'));
    expect(longName.length).toBeLessThanOrEqual(63);
    expect(isScheduledSnapshotName(long, longName)).toBe(true);
  });

  it('encrypts to the given age recipients: public keys as arguments, nothing secret', () => {
    const recipient = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
    const args = execArgs(spec({ encryptTo: [recipient] }));
    expect(args.slice(args.indexOf('--encrypt-to'), args.indexOf('--encrypt-to') + 2)).toEqual([
      '--encrypt-to',
      recipient,
    ]);
    expect(args.join(' ')).not.toMatch(/passphrase|identity/);
  });

  it('execArgs without retention still pins the retention time zone', () => {
    expect(execArgs(spec({ keep: {}, ttl: undefined, labels: {} })).slice(-4)).toEqual([
      '--include-cluster-resources',
      'auto',
      '--time-zone',
      'Europe/Berlin',
    ]);
  });
});

describe('a namespaced-only schedule (a creator with namespace rights only)', () => {
  const tenant = (over: Partial<ScheduleSpec> = {}) =>
    spec({ installNamespace: 'shop', namespacedOnly: true, ...over });
  /** What `admin` holds in a namespace: no podtemplates, no custom resources of example.com. */
  const ADMIN = {
    rules: [
      { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['namespaces'] },
      {
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        apiGroups: ['', 'apps', 'rbac.authorization.k8s.io'],
        resources: [
          'configmaps',
          'secrets',
          'pods',
          'serviceaccounts',
          'persistentvolumeclaims',
          'deployments',
          'roles',
          'rolebindings',
        ],
      },
    ],
    incomplete: false,
  };

  it('renders Roles and RoleBindings in each backed-up namespace and no ClusterRole or ClusterRoleBinding', () => {
    const r = renderSchedule({ spec: tenant(), types: TYPES, credentials: CREDS });
    expect(find(r.objects, 'ClusterRole')).toEqual([]);
    expect(find(r.objects, 'ClusterRoleBinding')).toEqual([]);
    expect(r.rbac.clusterRules).toEqual([]);
    for (const ns of ['shop', 'web']) {
      one(r.objects, 'Role', ns);
      const binding = one(r.objects, 'RoleBinding', ns);
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'kubectl-snapshot-nightly', namespace: 'shop' },
      ]);
    }
    expect(one(r.objects, 'CronJob', 'shop').metadata.namespace).toBe('shop');
  });

  it("grants only get and list, never '*', and only on types the creator may read in every namespace (RBAC's escalation check)", () => {
    const r = renderSchedule({
      spec: tenant(),
      types: TYPES,
      credentials: CREDS,
      creatorRights: [ADMIN, ADMIN],
    });
    expect(grantedVerbs(r.rbac)).toEqual(['get', 'list']);
    const granted = r.rbac.namespaceRules.flatMap((x) =>
      x.resources.map((res) => `${x.apiGroups[0]}/${res}`),
    );
    expect(granted).toContain('/namespaces');
    expect(granted).toContain('apps/deployments');
    expect(granted).not.toContain('example.com/widgets');
    expect(granted).not.toContain('/events');
  });

  it('drops nothing for a namespace whose rules review was incomplete or failed', () => {
    const r = renderSchedule({
      spec: tenant(),
      types: TYPES,
      credentials: CREDS,
      creatorRights: [{ rules: [], incomplete: true }, undefined],
    });
    const granted = r.rbac.namespaceRules.flatMap((x) => x.resources);
    expect(granted).toContain('widgets');
  });

  it('refuses -A: every namespace can only be read with a ClusterRole', () => {
    expect(() =>
      rbacRules(selection({ namespaces: [], allNamespaces: true }), TYPES, {
        namespacedOnly: true,
      }),
    ).toThrow(/namespaced-only schedule cannot back up all namespaces/);
  });
});
