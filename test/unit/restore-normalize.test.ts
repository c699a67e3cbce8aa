import { describe, expect, it } from 'vitest';
import { diffObjects, normalizeForCompare, REDACTED } from '../../src/restore/normalize.js';
import { LAST_APPLIED_ANNOTATION } from '../../src/restore/sanitize.js';
import {
  aggregatedClusterRole,
  clusterRole,
  configMap,
  deployment,
  job,
  managedBy,
  ownedBy,
  podSpec,
  pvc,
  rule,
  scheduledPod,
  secret,
  served,
  service,
  servicePort,
  withAnnotations,
  withLabels,
  withStatus,
} from './builders.js';

const same = (
  a: Parameters<typeof normalizeForCompare>[0],
  b: Parameters<typeof normalizeForCompare>[0],
) => diffObjects(normalizeForCompare(a), normalizeForCompare(b));

describe('normalizeForCompare', () => {
  it('ignores server-set metadata, managedFields, ownerReferences and status', () => {
    const backedUp = withStatus(served(deployment('web', 'ns1'), [managedBy('kubectl', {})]), {
      replicas: 1,
    });
    const owner = served(deployment('parent', 'ns1'));
    const live = withStatus(ownedBy(served(deployment('web', 'ns1')), owner), { replicas: 0 });
    expect(same(backedUp, live)).toEqual([]);
  });

  it('ignores annotations the control plane writes and the last-applied copy', () => {
    const backedUp = withAnnotations(deployment('web', 'ns1'), {
      'deployment.kubernetes.io/revision': '7',
      [LAST_APPLIED_ANNOTATION]: '{"a":1}',
      team: 'a',
    });
    const live = withAnnotations(deployment('web', 'ns1'), {
      'deployment.kubernetes.io/revision': '1',
      team: 'a',
    });
    expect(same(backedUp, live)).toEqual([]);
  });

  it('keeps user annotations and labels', () => {
    const backedUp = withAnnotations(deployment('web', 'ns1'), { team: 'a' });
    const live = withAnnotations(deployment('web', 'ns1'), { team: 'b' });
    expect(same(backedUp, live)).toEqual([
      { path: 'metadata.annotations.team', before: 'a', after: 'b' },
    ]);
  });

  it('ignores the backup and restore names Velero labels what it restores with, as Velero does', () => {
    const backedUp = withLabels(configMap('settings', 'ns1', { a: '1' }), {
      app: 'web',
      'velero.io/backup-name': 'b2',
    });
    const live = withLabels(configMap('settings', 'ns1', { a: '1' }), {
      app: 'web',
      'velero.io/backup-name': 'b1',
      'velero.io/restore-name': 'b1-20260101',
    });
    expect(same(backedUp, live)).toEqual([]);
    expect(
      same(
        withLabels(configMap('settings', 'ns1', {}), { 'velero.io/backup-name': 'b' }),
        configMap('settings', 'ns1', {}),
      ),
    ).toEqual([]);
  });

  it('ignores allocated Service cluster IPs and node ports', () => {
    const backedUp = service('web', 'ns1', {
      type: 'NodePort',
      clusterIP: '10.0.0.1',
      clusterIPs: ['10.0.0.1'],
      ports: [servicePort(80, { nodePort: 30001 })],
    });
    const live = service('web', 'ns1', {
      type: 'NodePort',
      clusterIP: '10.0.0.2',
      clusterIPs: ['10.0.0.2'],
      ports: [servicePort(80, { nodePort: 30002 })],
    });
    expect(same(backedUp, live)).toEqual([]);
  });

  it('still sees a Service port change', () => {
    const diffs = same(
      service('web', 'ns1'),
      service('web', 'ns1', { ports: [servicePort(8080)] }),
    );
    expect(diffs.map((d) => d.path)).toEqual(['spec.ports[0].port', 'spec.ports[0].targetPort']);
  });

  it('ignores where a Pod was scheduled and its injected token volume', () => {
    const backedUp = scheduledPod('web-1', 'ns1');
    const live = scheduledPod('web-1', 'ns1', { nodeName: 'node-7' }, 'kube-api-access-zzzzz');
    expect(same(backedUp, live)).toEqual([]);
  });

  it('ignores the UID labels of a Job', () => {
    expect(same(job('migrate', 'ns1', 'uid-a'), job('migrate', 'ns1', 'uid-b'))).toEqual([]);
  });

  it('ignores the volume a claim is bound to', () => {
    expect(
      same(
        pvc('data', 'ns1', { volumeName: 'pvc-aaa' }),
        pvc('data', 'ns1', { volumeName: 'pvc-bbb' }),
      ),
    ).toEqual([]);
  });

  it("ignores an aggregated ClusterRole's computed rules, not a plain ClusterRole's rules", () => {
    const rules = [rule(['example.com'], ['widgets'])];
    const stored = aggregatedClusterRole('all', 'example.com/aggregate-to-all');
    delete stored.rules;
    const live = served(aggregatedClusterRole('all', 'example.com/aggregate-to-all', rules));
    expect(normalizeForCompare(stored)).toEqual(normalizeForCompare(live));
    expect(normalizeForCompare(clusterRole('plain', []))).not.toEqual(
      normalizeForCompare(clusterRole('plain', rules)),
    );
  });

  it('does not modify its input', () => {
    const d = served(deployment('web', 'ns1'));
    const before = structuredClone(d);
    normalizeForCompare(d);
    expect(d).toEqual(before);
  });
});

describe('diffObjects', () => {
  it('finds no differences between equal objects', () => {
    expect(diffObjects(deployment('web', 'ns1'), deployment('web', 'ns1'))).toEqual([]);
  });

  it('reports changed, added and removed fields with readable paths', () => {
    const a = configMap('cfg', 'ns1', { 'config.yaml': 'x: 1', key: 'a', gone: 'z' });
    const b = configMap('cfg', 'ns1', { 'config.yaml': 'x: 2', key: 'a', added: 'y' });
    expect(diffObjects(a, b)).toEqual([
      { path: 'data.added', before: undefined, after: 'y' },
      { path: 'data["config.yaml"]', before: 'x: 1', after: 'x: 2' },
      { path: 'data.gone', before: 'z', after: undefined },
    ]);
  });

  it('uses dotted paths and array indexes', () => {
    expect(
      diffObjects(
        deployment('web', 'ns1', { replicas: 2 }),
        deployment('web', 'ns1', { replicas: 3 }),
      ),
    ).toEqual([{ path: 'spec.replicas', before: 2, after: 3 }]);
    const a = deployment('web', 'ns1');
    const b = deployment('web', 'ns1', {
      template: {
        metadata: { labels: { app: 'web' } },
        spec: podSpec({ containers: [{ name: 'app', image: 'nginx:1.28' }] }),
      },
    });
    expect(diffObjects(a, b)).toEqual([
      { path: 'spec.template.spec.containers[0].image', before: 'nginx:1.27', after: 'nginx:1.28' },
    ]);
  });

  it('quotes keys that are not identifiers', () => {
    const a = withAnnotations(configMap('cfg', 'ns1'), { 'app.kubernetes.io/name': 'a' });
    expect(diffObjects(a, configMap('cfg', 'ns1'))).toEqual([
      { path: 'metadata.annotations', before: { 'app.kubernetes.io/name': 'a' }, after: undefined },
    ]);
    const b = withAnnotations(configMap('cfg', 'ns1'), { 'app.kubernetes.io/name': 'b' });
    expect(diffObjects(a, b)[0]?.path).toBe('metadata.annotations["app.kubernetes.io/name"]');
  });

  it('treats null and a missing field alike', () => {
    expect(diffObjects({ spec: { a: null } }, { spec: {} })).toEqual([]);
  });

  it('never prints a Secret’s values, only which keys changed', () => {
    const a = secret('db', 'ns1', { password: 'aHVudGVyMg==', user: 'YWRtaW4=', old: 'eA==' });
    const b = secret('db', 'ns1', { password: 'c2VjcmV0', user: 'YWRtaW4=', fresh: 'eQ==' });
    expect(diffObjects(a, b)).toEqual([
      { path: 'data.fresh', before: undefined, after: REDACTED },
      { path: 'data.old', before: REDACTED, after: undefined },
      { path: 'data.password', before: REDACTED, after: REDACTED },
    ]);
  });

  it('redacts a Secret’s whole data map and its last-applied annotation when they appear as one value', () => {
    const a = withAnnotations(secret('db', 'ns1', { password: 'aHVudGVyMg==' }), {
      [LAST_APPLIED_ANNOTATION]: '{"data":{"password":"aHVudGVyMg=="}}',
    });
    const b = { ...secret('db', 'ns1'), data: undefined };
    const diffs = diffObjects(a, b);
    expect(JSON.stringify(diffs)).not.toContain('aHVudGVyMg==');
    expect(diffs).toContainEqual({
      path: 'data',
      before: { password: REDACTED },
      after: undefined,
    });
    expect(diffs).toContainEqual({
      path: 'metadata.annotations',
      before: { [LAST_APPLIED_ANNOTATION]: REDACTED },
      after: undefined,
    });
    expect(JSON.stringify(diffObjects(a, undefined))).not.toContain('aHVudGVyMg==');
  });

  it('prints ConfigMap values in clear', () => {
    expect(
      diffObjects(configMap('c', 'ns1', { k: 'a' }), configMap('c', 'ns1', { k: 'b' })),
    ).toEqual([{ path: 'data.k', before: 'a', after: 'b' }]);
  });
});
