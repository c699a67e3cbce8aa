import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/core/types.js';
import { parseApiVersion } from '../../src/core/types.js';
import { planningView } from '../../src/restore/load.js';
import { skipReason as reasonForWhole, type SkipContext } from '../../src/restore/skip.js';
import {
  configMap,
  cronJob,
  deployment,
  endpointSlice,
  endpoints,
  event,
  job,
  kubeObject,
  lease,
  namespace,
  ownedBy,
  pod,
  pv,
  pvc,
  replicaSet,
  secret,
  served,
  serviceAccount,
  statefulSet,
  withAnnotations,
  withStatus,
} from './builders.js';

/** A context for a restore of exactly `objects` (matched by group, kind, namespace, name). */
function restoreOf(...objects: KubeObject[]): SkipContext {
  const key = (apiVersion: string, kind: string, ns: string | undefined, name: string) =>
    `${parseApiVersion(apiVersion).group}/${kind}/${ns ?? ''}/${name}`;
  const keys = new Set(
    objects.map((o) => key(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name)),
  );
  return { restoring: (apiVersion, kind, ns, name) => keys.has(key(apiVersion, kind, ns, name)) };
}

/**
 * skipReason of an object as the planner sees it. A restore keeps only a planning view of
 * each namespaced object, so every rule here must give the same answer on the view.
 */
function skipReason(obj: KubeObject, ctx: SkipContext): string | undefined {
  const reason = reasonForWhole(obj, ctx);
  if (obj.metadata.namespace !== undefined)
    expect(reasonForWhole(planningView(obj), ctx), 'on the planning view').toBe(reason);
  return reason;
}

const nothing = restoreOf();

describe('skipReason', () => {
  it('skips core and events.k8s.io Events', () => {
    expect(skipReason(event('web.17c', 'ns1'), nothing)).toMatch(/event/);
    expect(skipReason(event('web.17c', 'ns1', 'events.k8s.io/v1'), nothing)).toMatch(/event/);
  });

  it('skips metrics', () => {
    expect(
      skipReason(kubeObject('metrics.k8s.io/v1beta1', 'PodMetrics', 'web', 'ns1'), nothing),
    ).toMatch(/metrics/);
  });

  it('restores ordinary objects', () => {
    expect(skipReason(configMap('settings', 'ns1'), nothing)).toBeUndefined();
    expect(skipReason(deployment('web', 'ns1'), nothing)).toBeUndefined();
  });

  it('never skips a Namespace, not even a system one', () => {
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'ns1']) {
      expect(skipReason(namespace(name), nothing)).toBeUndefined();
    }
  });

  describe('objects their restored controller re-creates', () => {
    const web = served(deployment('web', 'ns1'));
    const rs = served(ownedBy(replicaSet('web-5d8f', 'ns1'), web));
    const rsPod = ownedBy(pod('web-5d8f-abcde', 'ns1'), rs);

    it('skips a ReplicaSet of a restored Deployment', () => {
      expect(skipReason(rs, restoreOf(web, rs))).toBe('created by its controller Deployment/web');
    });

    it('skips a Pod of a restored ReplicaSet, even though that ReplicaSet is skipped itself', () => {
      expect(skipReason(rsPod, restoreOf(web, rs, rsPod))).toBe(
        'created by its controller ReplicaSet/web-5d8f',
      );
    });

    it('skips a Job of a restored CronJob, and a Pod of a restored Job', () => {
      const nightly = served(cronJob('nightly', 'ns1'));
      const run = served(ownedBy(job('nightly-2890', 'ns1'), nightly));
      expect(skipReason(run, restoreOf(nightly))).toMatch(/CronJob\/nightly/);
      expect(skipReason(ownedBy(pod('nightly-2890-x', 'ns1'), run), restoreOf(run))).toMatch(
        /Job\/nightly-2890/,
      );
    });

    it('skips Pods and ControllerRevisions of a restored StatefulSet', () => {
      const db = served(statefulSet('db', 'ns1'));
      expect(skipReason(ownedBy(pod('db-0', 'ns1'), db), restoreOf(db))).toMatch(/StatefulSet\/db/);
      const rev = ownedBy(
        kubeObject('apps/v1', 'ControllerRevision', 'db-7b9', 'ns1', { revision: 1 }),
        db,
      );
      expect(skipReason(rev, restoreOf(db))).toMatch(/StatefulSet\/db/);
    });

    it('restores an owned object whose controller is not in the restore', () => {
      expect(skipReason(rsPod, restoreOf(rsPod))).toBeUndefined();
    });

    it('restores an object whose owner reference is not a controller reference', () => {
      const cm = ownedBy(configMap('web-extra', 'ns1'), web, false);
      expect(skipReason(cm, restoreOf(web))).toBeUndefined();
    });

    it('restores a claim of a restored StatefulSet, which keeps the binding to its volume', () => {
      const db = served(statefulSet('db', 'ns1'));
      expect(skipReason(ownedBy(pvc('data-db-0', 'ns1'), db), restoreOf(db))).toBeUndefined();
    });

    it('skips a generic ephemeral volume claim of a restored Pod', () => {
      const p = served(pod('scratch', 'ns1'));
      expect(skipReason(ownedBy(pvc('scratch-cache', 'ns1'), p), restoreOf(p))).toMatch(
        /Pod\/scratch/,
      );
    });

    it('skips EndpointSlices owned by a restored Service', () => {
      const svc = served(kubeObject('v1', 'Service', 'web', 'ns1', { spec: {} }));
      expect(skipReason(ownedBy(endpointSlice('web-abc', 'ns1'), svc), restoreOf(svc))).toMatch(
        /Service\/web/,
      );
    });
  });

  it('skips a finished Pod', () => {
    expect(skipReason(withStatus(pod('once', 'ns1'), { phase: 'Succeeded' }), nothing)).toMatch(
      /finished \(Succeeded\)/,
    );
    expect(skipReason(withStatus(pod('once', 'ns1'), { phase: 'Failed' }), nothing)).toMatch(
      /finished \(Failed\)/,
    );
    expect(
      skipReason(withStatus(pod('web', 'ns1'), { phase: 'Running' }), nothing),
    ).toBeUndefined();
  });

  it('skips a Job that completed or failed', () => {
    const done = withStatus(job('migrate', 'ns1'), {
      conditions: [{ type: 'Complete', status: 'True' }],
    });
    const failed = withStatus(job('migrate', 'ns1'), {
      conditions: [{ type: 'Failed', status: 'True' }],
    });
    const running = withStatus(job('migrate', 'ns1'), {
      conditions: [{ type: 'Suspended', status: 'False' }],
      active: 1,
    });
    expect(skipReason(done, nothing)).toMatch(/finished \(Complete\)/);
    expect(skipReason(failed, nothing)).toMatch(/finished \(Failed\)/);
    expect(skipReason(running, nothing)).toBeUndefined();
  });

  it('skips a mirror Pod, which the kubelet creates from a static Pod', () => {
    const mirror = withAnnotations(pod('etcd-node-1', 'kube-system'), {
      'kubernetes.io/config.mirror': 'abc',
    });
    expect(skipReason(mirror, nothing)).toMatch(/mirror/);
  });

  it('skips a token Secret the token controller generated', () => {
    const generated = secret(
      'builder-token-x7k2p',
      'ns1',
      { token: 'eA==' },
      'kubernetes.io/service-account-token',
      {
        annotations: { 'kubernetes.io/service-account.name': 'builder' },
      },
    );
    expect(skipReason(generated, nothing)).toBe(
      'token Secret generated for ServiceAccount builder',
    );
  });

  it('restores a token Secret made by hand', () => {
    const handMade = secret('ci-token', 'ns1', {}, 'kubernetes.io/service-account-token', {
      annotations: { 'kubernetes.io/service-account.name': 'ci' },
    });
    expect(skipReason(handMade, nothing)).toBeUndefined();
  });

  it('skips the kube-root-ca.crt ConfigMap', () => {
    expect(skipReason(configMap('kube-root-ca.crt', 'ns1'), nothing)).toMatch(/every namespace/);
  });

  it('skips the default ServiceAccount unless it was customised', () => {
    expect(skipReason(serviceAccount('default', 'ns1'), nothing)).toMatch(/every namespace/);
    expect(
      skipReason(
        serviceAccount('default', 'ns1', { imagePullSecrets: [{ name: 'registry' }] }),
        nothing,
      ),
    ).toBeUndefined();
    expect(
      skipReason(
        serviceAccount('default', 'ns1', { automountServiceAccountToken: false }),
        nothing,
      ),
    ).toBeUndefined();
    expect(skipReason(serviceAccount('builder', 'ns1'), nothing)).toBeUndefined();
  });

  it('skips EndpointSlices managed by the EndpointSlice or mirroring controller', () => {
    const managed = endpointSlice('web-abc', 'ns1', {
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    const mirrored = endpointSlice('db-xyz', 'ns1', {
      'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io',
    });
    const custom = endpointSlice('db-manual', 'ns1', {
      'endpointslice.kubernetes.io/managed-by': 'example.com/my-controller',
    });
    expect(skipReason(managed, nothing)).toMatch(/endpointslice-controller/);
    expect(skipReason(mirrored, nothing)).toMatch(/mirroring/);
    expect(skipReason(custom, nothing)).toBeUndefined();
  });

  it('skips Endpoints the endpoints controller labelled skip-mirror', () => {
    const managed = endpoints('web', 'ns1', { 'endpointslice.kubernetes.io/skip-mirror': 'true' });
    expect(skipReason(managed, nothing)).toBe(
      'maintained by the endpoints controller for Service web',
    );
  });

  it('restores Endpoints of a Service without a selector', () => {
    expect(skipReason(endpoints('external-db', 'ns1'), nothing)).toBeUndefined();
    const ctx = { ...nothing, serviceHasSelector: () => false };
    expect(
      skipReason(
        endpoints('external-db', 'ns1', { 'endpointslice.kubernetes.io/skip-mirror': 'true' }),
        ctx,
      ),
    ).toBeUndefined();
  });

  it('skips Endpoints of a restored Service with a selector, labelled or not', () => {
    const ctx = {
      ...nothing,
      serviceHasSelector: (ns: string, name: string) =>
        ns === 'ns1' && name === 'web' ? true : undefined,
    };
    expect(skipReason(endpoints('web', 'ns1'), ctx)).toMatch(/endpoints controller/);
    expect(skipReason(endpoints('other', 'ns1'), ctx)).toBeUndefined();
  });

  it('skips node Leases in kube-node-lease but restores other Leases', () => {
    expect(skipReason(lease('node-1', 'kube-node-lease'), nothing)).toMatch(/heartbeat/);
    expect(skipReason(lease('my-operator-leader', 'ns1'), nothing)).toBeUndefined();
  });

  it('skips a PersistentVolume with reclaim policy Delete but restores a retained one', () => {
    expect(skipReason(pv('pvc-123', { persistentVolumeReclaimPolicy: 'Delete' }), nothing)).toMatch(
      /reclaim policy Delete/,
    );
    expect(
      skipReason(pv('nfs-share', { persistentVolumeReclaimPolicy: 'Retain' }), nothing),
    ).toBeUndefined();
  });
});
