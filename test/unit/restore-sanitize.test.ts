import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/core/types.js';
import { LAST_APPLIED_ANNOTATION, sanitize } from '../../src/restore/sanitize.js';
import {
  apiAccessVolume,
  configMap,
  deployment,
  job,
  managedBy,
  namespace,
  ownedBy,
  pod,
  pv,
  pvc,
  scheduledPod,
  secret,
  served,
  service,
  serviceAccount,
  servicePort,
  TOKEN_MOUNT_PATH,
  withAnnotations,
  withStatus,
} from './builders.js';

const opts = { preserveNodePorts: false };
// biome-ignore lint/suspicious/noExplicitAny: tests look into free-form specs
const spec = (o: KubeObject) => o.spec as Record<string, any>;

describe('sanitize: every object', () => {
  it('drops server-set metadata: uid, resourceVersion, generation, timestamps, selfLink, managedFields', () => {
    const cm = served(configMap('settings', 'ns1', { a: '1' }), [managedBy('kubectl', {})]);
    cm.metadata.selfLink = '/api/v1/namespaces/ns1/configmaps/settings';
    cm.metadata.deletionTimestamp = '2024-05-02T00:00:00Z';
    cm.metadata.deletionGracePeriodSeconds = 30;
    const out = sanitize(cm, opts);
    expect(out.metadata).toEqual({ name: 'settings', namespace: 'ns1' });
    expect(out.data).toEqual({ a: '1' });
  });

  it('keeps labels, annotations, finalizers and the last-applied annotation', () => {
    const cm = configMap('settings', 'ns1');
    cm.metadata.labels = { app: 'web' };
    cm.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: '{}', owner: 'team-a' };
    cm.metadata.finalizers = ['example.com/cleanup'];
    expect(sanitize(cm, opts).metadata).toEqual(cm.metadata);
  });

  it('drops ownerReferences, whose old owner UIDs would make the garbage collector delete the object', () => {
    const owner = served(deployment('web', 'ns1'));
    const out = sanitize(ownedBy(configMap('web-config', 'ns1'), owner, false), opts);
    expect(out.metadata.ownerReferences).toBeUndefined();
  });

  it('drops status', () => {
    const out = sanitize(
      withStatus(deployment('web', 'ns1'), { replicas: 3, readyReplicas: 3 }),
      opts,
    );
    expect(out.status).toBeUndefined();
    expect(spec(out).replicas).toBe(1);
  });

  it('returns a deep copy and leaves its input untouched', () => {
    const svc = served(service('web', 'ns1'));
    const before = structuredClone(svc);
    const out = sanitize(svc, opts);
    expect(svc).toEqual(before);
    expect(spec(out).ports).not.toBe(spec(svc).ports);
  });
});

describe('sanitize: Service', () => {
  it('clears an allocated clusterIP and clusterIPs', () => {
    const out = sanitize(service('web', 'ns1'), opts);
    expect(spec(out).clusterIP).toBeUndefined();
    expect(spec(out).clusterIPs).toBeUndefined();
  });

  it('a headless Service keeps clusterIP None', () => {
    const out = sanitize(service('db', 'ns1', { clusterIP: 'None', clusterIPs: ['None'] }), opts);
    expect(spec(out).clusterIP).toBe('None');
    expect(spec(out).clusterIPs).toEqual(['None']);
  });

  it('an ExternalName Service is left as it is', () => {
    const ext = service('ext', 'ns1', {
      type: 'ExternalName',
      externalName: 'db.example.com',
      clusterIP: undefined,
      clusterIPs: undefined,
      selector: undefined,
    });
    expect(spec(sanitize(ext, opts))).toEqual(spec(ext));
  });

  it('clears auto-assigned nodePorts', () => {
    const svc = service('web', 'ns1', {
      type: 'NodePort',
      ports: [servicePort(80, { nodePort: 31234 })],
    });
    expect(spec(sanitize(svc, opts)).ports).toEqual([servicePort(80)]);
  });

  it('keeps every nodePort with preserveNodePorts', () => {
    const svc = service('web', 'ns1', {
      type: 'NodePort',
      ports: [servicePort(80, { nodePort: 31234 })],
    });
    expect(spec(sanitize(svc, { preserveNodePorts: true })).ports).toEqual([
      servicePort(80, { nodePort: 31234 }),
    ]);
  });

  it('keeps a nodePort set explicitly in the last-applied configuration of kubectl apply', () => {
    const applied = {
      spec: {
        type: 'NodePort',
        ports: [
          { name: 'http', port: 80, nodePort: 30080 },
          { name: 'metrics', port: 9090 },
        ],
      },
    };
    const svc = withAnnotations(
      service('web', 'ns1', {
        type: 'NodePort',
        ports: [
          servicePort(80, { name: 'http', nodePort: 30080 }),
          servicePort(9090, { name: 'metrics', nodePort: 31999 }),
        ],
      }),
      { [LAST_APPLIED_ANNOTATION]: JSON.stringify(applied) },
    );
    expect(spec(sanitize(svc, opts)).ports).toEqual([
      servicePort(80, { name: 'http', nodePort: 30080 }),
      servicePort(9090, { name: 'metrics' }),
    ]);
  });

  it('keeps an unnamed port whose nodePort is in the last-applied configuration', () => {
    const applied = { spec: { ports: [{ port: 80, nodePort: 30080 }] } };
    const svc = withAnnotations(
      service('web', 'ns1', { type: 'NodePort', ports: [servicePort(80, { nodePort: 30080 })] }),
      {
        [LAST_APPLIED_ANNOTATION]: JSON.stringify(applied),
      },
    );
    expect(spec(sanitize(svc, opts)).ports).toEqual([servicePort(80, { nodePort: 30080 })]);
  });

  it('keeps a nodePort a field manager owns (server-side apply, replace)', () => {
    const fields = {
      'f:spec': {
        'f:ports': {
          'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:nodePort': {}, 'f:port': {} },
        },
      },
    };
    const svc = served(
      service('web', 'ns1', {
        type: 'NodePort',
        ports: [servicePort(80, { nodePort: 30080 }), servicePort(443, { nodePort: 31443 })],
      }),
      [managedBy('kubectl', fields, { operation: 'Apply' })],
    );
    expect(spec(sanitize(svc, opts)).ports).toEqual([
      servicePort(80, { nodePort: 30080 }),
      servicePort(443),
    ]);
  });

  it('ignores nodePort ownership recorded for the status subresource or by control-plane managers', () => {
    const fields = {
      'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { 'f:nodePort': {} } } },
    };
    const svc = served(
      service('web', 'ns1', { type: 'NodePort', ports: [servicePort(80, { nodePort: 30080 })] }),
      [
        managedBy('kube-controller-manager', fields),
        managedBy('some-operator', fields, { subresource: 'status' }),
      ],
    );
    expect(spec(sanitize(svc, opts)).ports).toEqual([servicePort(80)]);
  });

  it('treats a malformed last-applied annotation as no evidence', () => {
    const svc = withAnnotations(
      service('web', 'ns1', { type: 'NodePort', ports: [servicePort(80, { nodePort: 30080 })] }),
      {
        [LAST_APPLIED_ANNOTATION]: '{not json',
      },
    );
    expect(spec(sanitize(svc, opts)).ports).toEqual([servicePort(80)]);
  });

  it('drops an allocated healthCheckNodePort unless preserved or set explicitly', () => {
    const lb = {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      ports: [servicePort(80)],
    };
    expect(spec(sanitize(service('web', 'ns1', lb), opts)).healthCheckNodePort).toBeUndefined();
    expect(
      spec(sanitize(service('web', 'ns1', lb), { preserveNodePorts: true })).healthCheckNodePort,
    ).toBe(32000);
    const applied = withAnnotations(service('web', 'ns1', lb), {
      [LAST_APPLIED_ANNOTATION]: JSON.stringify({ spec: { healthCheckNodePort: 32000 } }),
    });
    expect(spec(sanitize(applied, opts)).healthCheckNodePort).toBe(32000);
    const owned = served(service('web', 'ns1', lb), [
      managedBy('helm', { 'f:spec': { 'f:healthCheckNodePort': {} } }),
    ]);
    expect(spec(sanitize(owned, opts)).healthCheckNodePort).toBe(32000);
  });
});

describe('sanitize: Pod', () => {
  it('clears nodeName so the scheduler places the Pod in this cluster', () => {
    expect(spec(sanitize(scheduledPod('web-1', 'ns1'), opts)).nodeName).toBeUndefined();
  });

  it('drops priority and preemptionPolicy, which admission derives from the PriorityClass', () => {
    const out = spec(sanitize(scheduledPod('web-1', 'ns1', { priorityClassName: 'high' }), opts));
    expect(out.priority).toBeUndefined();
    expect(out.preemptionPolicy).toBeUndefined();
    expect(out.priorityClassName).toBe('high');
  });

  it('drops ephemeral containers, which a create may not carry', () => {
    const p = scheduledPod('web-1', 'ns1', {
      ephemeralContainers: [{ name: 'debugger', image: 'busybox' }],
    });
    expect(spec(sanitize(p, opts)).ephemeralContainers).toBeUndefined();
  });

  it('drops the injected kube-api-access volume and its mounts so admission injects a fresh one', () => {
    const p = scheduledPod('web-1', 'ns1', {
      initContainers: [
        {
          name: 'init',
          image: 'busybox',
          volumeMounts: [{ name: 'kube-api-access-x7k2p', mountPath: TOKEN_MOUNT_PATH }],
        },
      ],
    });
    const out = spec(sanitize(p, opts));
    expect(out.volumes).toBeUndefined();
    expect(out.containers[0].volumeMounts).toBeUndefined();
    expect(out.initContainers[0].volumeMounts).toBeUndefined();
  });

  it('keeps the user’s own volumes and mounts next to a dropped token volume', () => {
    const p = scheduledPod('web-1', 'ns1', {
      containers: [
        {
          name: 'app',
          image: 'nginx',
          volumeMounts: [
            { name: 'config', mountPath: '/etc/app' },
            { name: 'kube-api-access-x7k2p', mountPath: TOKEN_MOUNT_PATH },
          ],
        },
      ],
      volumes: [{ name: 'config', configMap: { name: 'app' } }, apiAccessVolume()],
    });
    const out = spec(sanitize(p, opts));
    expect(out.volumes).toEqual([{ name: 'config', configMap: { name: 'app' } }]);
    expect(out.containers[0].volumeMounts).toEqual([{ name: 'config', mountPath: '/etc/app' }]);
  });

  it('drops a legacy <sa>-token-xxxxx Secret volume, whose Secret is not restored', () => {
    const p = pod('web-1', 'ns1', {
      serviceAccountName: 'builder',
      containers: [
        {
          name: 'app',
          image: 'nginx',
          volumeMounts: [{ name: 'builder-token-x7k2p', mountPath: TOKEN_MOUNT_PATH }],
        },
      ],
      volumes: [{ name: 'builder-token-x7k2p', secret: { secretName: 'builder-token-x7k2p' } }],
    });
    const out = spec(sanitize(p, opts));
    expect(out.volumes).toBeUndefined();
    expect(out.containers[0].volumeMounts).toBeUndefined();
  });

  it('keeps a user volume that only looks like a token volume', () => {
    const volumes = [
      { name: 'kube-api-access-mine', configMap: { name: 'access' } },
      { name: 'creds', secret: { secretName: 'builder-token-store' } },
    ];
    const out = spec(
      sanitize(pod('web-1', 'ns1', { serviceAccountName: 'builder', volumes }), opts),
    );
    expect(out.volumes).toEqual(volumes);
  });
});

describe('sanitize: PersistentVolumeClaim and PersistentVolume', () => {
  const bindingAnnotations = {
    'pv.kubernetes.io/bind-completed': 'yes',
    'pv.kubernetes.io/bound-by-controller': 'yes',
    'volume.beta.kubernetes.io/storage-provisioner': 'rancher.io/local-path',
    'volume.kubernetes.io/storage-provisioner': 'rancher.io/local-path',
    'volume.kubernetes.io/selected-node': 'node-1',
  };

  it('strips the binding, provisioner and selected-node annotations from a claim', () => {
    const claim = pvc(
      'data',
      'ns1',
      { volumeName: 'pvc-123' },
      { annotations: { ...bindingAnnotations, team: 'a' } },
    );
    expect(sanitize(claim, opts).metadata.annotations).toEqual({ team: 'a' });
  });

  it('keeps a claim’s volumeName when its volume is restored, or when nobody says', () => {
    const claim = pvc('data', 'ns1', { volumeName: 'pv-1' });
    expect(spec(sanitize(claim, opts)).volumeName).toBe('pv-1');
    expect(spec(sanitize(claim, { ...opts, volumeRestored: () => true })).volumeName).toBe('pv-1');
  });

  it('clears a claim’s volumeName when its volume is not restored, so it provisions a new one', () => {
    const claim = pvc('data', 'ns1', { volumeName: 'pvc-123' });
    expect(
      spec(sanitize(claim, { ...opts, volumeRestored: (n) => n !== 'pvc-123' })).volumeName,
    ).toBeUndefined();
  });

  it('clears a volume’s claimRef uid and resourceVersion but keeps the claim’s namespace and name', () => {
    const vol = pv(
      'pv-1',
      {
        claimRef: {
          kind: 'PersistentVolumeClaim',
          namespace: 'ns1',
          name: 'data',
          uid: 'old',
          resourceVersion: '42',
        },
      },
      {
        annotations: {
          'pv.kubernetes.io/bound-by-controller': 'yes',
          'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path',
        },
      },
    );
    const out = sanitize(vol, opts);
    expect(spec(out).claimRef).toEqual({
      kind: 'PersistentVolumeClaim',
      namespace: 'ns1',
      name: 'data',
    });
    expect(out.metadata.annotations).toEqual({
      'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path',
    });
  });
});

describe('sanitize: Job', () => {
  it('removes the controller-uid labels and lets the server generate the selector again', () => {
    const out = sanitize(served(job('migrate', 'ns1')), opts);
    expect(spec(out).selector).toBeUndefined();
    expect(spec(out).manualSelector).toBeUndefined();
    expect(spec(out).template.metadata.labels).toEqual({
      'job-name': 'migrate',
      'batch.kubernetes.io/job-name': 'migrate',
    });
    expect(out.metadata.labels).toEqual({
      'job-name': 'migrate',
      'batch.kubernetes.io/job-name': 'migrate',
    });
  });

  it('removes the legacy controller-uid label of clusters before 1.27', () => {
    const old = job('migrate', 'ns1', 'u1', {
      selector: { matchLabels: { 'controller-uid': 'u1' } },
    });
    expect(spec(sanitize(old, opts)).selector).toBeUndefined();
  });

  it('keeps a manual selector', () => {
    const manual = job('migrate', 'ns1', 'u1', {
      manualSelector: true,
      selector: { matchLabels: { task: 'migrate' } },
    });
    const out = spec(sanitize(manual, opts));
    expect(out.selector).toEqual({ matchLabels: { task: 'migrate' } });
    expect(out.manualSelector).toBe(true);
  });
});

describe('sanitize: ServiceAccount and token Secrets', () => {
  it('drops references to generated token Secrets from a ServiceAccount', () => {
    const sa = serviceAccount('builder', 'ns1', {
      secrets: [{ name: 'builder-token-x7k2p' }, { name: 'registry' }],
    });
    expect(sanitize(sa, opts).secrets).toEqual([{ name: 'registry' }]);
    const onlyToken = serviceAccount('builder', 'ns1', {
      secrets: [{ name: 'builder-token-x7k2p' }],
    });
    expect(sanitize(onlyToken, opts).secrets).toBeUndefined();
  });

  it('clears the token and the ServiceAccount uid of a hand-made token Secret so the controller issues a new token', () => {
    const s = secret(
      'ci-token',
      'ns1',
      { token: 'ZXlK', 'ca.crt': 'LS0t', namespace: 'bnMx', extra: 'eA==' },
      'kubernetes.io/service-account-token',
      {
        annotations: {
          'kubernetes.io/service-account.name': 'ci',
          'kubernetes.io/service-account.uid': 'old-uid',
        },
      },
    );
    const out = sanitize(s, opts);
    expect(out.metadata.annotations).toEqual({ 'kubernetes.io/service-account.name': 'ci' });
    expect(out.data).toEqual({ extra: 'eA==' });
  });

  it('leaves the data of other Secrets alone', () => {
    const s = secret('db', 'ns1', { token: 'c2VjcmV0' });
    expect(sanitize(s, opts).data).toEqual({ token: 'c2VjcmV0' });
  });
});

describe('sanitize: Namespace', () => {
  it('drops spec.finalizers and status; the server adds the kubernetes finalizer again', () => {
    const ns = withStatus(namespace('ns1', { spec: { finalizers: ['kubernetes'] } }), {
      phase: 'Active',
    });
    const out = sanitize(ns, opts);
    expect(out.spec).toBeUndefined();
    expect(out.status).toBeUndefined();
    expect(out.metadata.name).toBe('ns1');
  });
});
