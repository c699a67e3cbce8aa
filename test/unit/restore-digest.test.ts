import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/core/types.js';
import { digest, digestListPage, wantedDigest } from '../../src/restore/digest.js';
import { planningView } from '../../src/restore/load.js';
import { normalizeInPlace } from '../../src/restore/normalize.js';
import { planRestore, type RestoreOptions } from '../../src/restore/plan.js';
import { LAST_APPLIED_ANNOTATION } from '../../src/restore/sanitize.js';
import {
  archived,
  configMap,
  job,
  managedBy,
  pvc,
  roleBinding,
  saSubject,
  secret,
  served,
  service,
  serviceAccount,
  servicePort,
  withAnnotations,
} from './builders.js';

const mapping = new Map([['shop', 'shop-copy']]);

/** Objects on which sanitising, mapping or normalising each change something. */
function snapshotObjects(): KubeObject[] {
  return [
    configMap('settings', 'shop', { mode: 'fast' }),
    withAnnotations(
      service('web', 'shop', { type: 'NodePort', ports: [servicePort(80, { nodePort: 30080 })] }),
      { [LAST_APPLIED_ANNOTATION]: JSON.stringify({ spec: { ports: [{ nodePort: 30080 }] } }) },
    ),
    served(
      service('api', 'shop', { type: 'NodePort', ports: [servicePort(81, { nodePort: 30081 })] }),
      [
        managedBy('kubectl', {
          'f:spec': { 'f:ports': { 'k:{"port":81,"protocol":"TCP"}': { 'f:nodePort': {} } } },
        }),
      ],
    ),
    pvc('data', 'shop', { volumeName: 'pv-not-in-snapshot' }),
    job('migrate', 'shop'),
    serviceAccount('runner', 'shop', {
      secrets: [{ name: 'runner-token-abcde' }, { name: 'keep' }],
    }),
    secret(
      'runner-token-abcde',
      'shop',
      { token: 'dG9rZW4=' },
      'kubernetes.io/service-account-token',
      {
        annotations: { 'kubernetes.io/service-account.name': 'runner' },
      },
    ),
    roleBinding('runner-edit', 'shop', [saSubject('runner', 'shop')]),
  ];
}

const options = (preserveNodePorts: boolean): RestoreOptions => ({
  namespaces: [],
  mapping,
  includeResources: [],
  excludeResources: [],
  includeClusterResources: 'false',
  preserveNodePorts,
});

describe('wantedDigest', () => {
  for (const preserveNodePorts of [false, true]) {
    it(`equals the digest of what the restore sends, compared (preserve node ports: ${preserveNodePorts})`, async () => {
      const objects = snapshotObjects();
      const plan = planRestore(objects.map(archived), options(preserveNodePorts));
      const planned = plan.tiers.flat();
      expect(planned.length).toBe(objects.length);
      for (const p of planned) {
        const source = objects.find((o) => o.kind === p.kind && o.metadata.name === p.name);
        const sent = digest(normalizeInPlace(await p.materialize()));
        expect(wantedDigest(structuredClone(source as KubeObject), mapping), p.name).toBe(sent);
      }
    });
  }

  it('differs when a value the user chose differs', () => {
    const a = wantedDigest(configMap('settings', 'shop', { mode: 'fast' }), mapping);
    const b = wantedDigest(configMap('settings', 'shop', { mode: 'safe' }), mapping);
    expect(a).not.toBe(b);
  });

  it('does not depend on the order of keys', () => {
    const a = configMap('settings', 'shop', { one: '1', two: '2' });
    const b = configMap('settings', 'shop', { two: '2', one: '1' });
    expect(wantedDigest(a, mapping)).toBe(wantedDigest(b, mapping));
  });

  it('leaves a planning view taken before it unchanged (Job UID labels)', () => {
    const o = job('migrate', 'shop');
    const view = planningView(o);
    const labels = structuredClone(view.metadata.labels);
    wantedDigest(o, mapping);
    expect(o.metadata.labels?.['controller-uid']).toBeUndefined(); // the object was sanitised
    expect(view.metadata.labels).toEqual(labels);
  });
});

describe('digestListPage', () => {
  /** A LIST response as the API server sends it: items without apiVersion and kind. */
  function listBody(items: KubeObject[], cont?: string): Buffer {
    const bare = items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    return Buffer.from(
      JSON.stringify({
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '42', ...(cont ? { continue: cont } : {}) },
        items: bare,
      }),
    );
  }

  it('digests a restored object served by the cluster equal to its archived original', () => {
    const original = served(configMap('settings', 'shop', { mode: 'fast' }));
    // What the cluster serves after the restore: the mapped namespace, new server metadata.
    const restored = served(configMap('settings', 'shop-copy', { mode: 'fast' }));
    restored.metadata.uid = 'another-uid';
    restored.metadata.resourceVersion = '99';
    const page = digestListPage(listBody([restored]), 'v1', 'ConfigMap');
    expect(page.digests).toEqual([['settings', wantedDigest(original, mapping)]]);
  });

  it('tells an object that was changed in the cluster apart', () => {
    const changed = served(configMap('settings', 'shop-copy', { mode: 'safe' }));
    const page = digestListPage(listBody([changed]), 'v1', 'ConfigMap');
    const archived = wantedDigest(served(configMap('settings', 'shop', { mode: 'fast' })), mapping);
    expect(page.digests[0]?.[1]).not.toBe(archived);
  });

  it('names the items being deleted and the finalizers that hold them, and only those', () => {
    const going = served(configMap('old', 'shop-copy', { mode: 'fast' }));
    going.metadata.deletionTimestamp = '2026-12-03T06:00:00Z';
    going.metadata.finalizers = ['example.com/hold'];
    const staying = served(configMap('settings', 'shop-copy', { mode: 'fast' }));
    const page = digestListPage(listBody([going, staying]), 'v1', 'ConfigMap');
    expect(page.digests.map(([name]) => name)).toEqual(['old', 'settings']);
    expect(page.deleting).toEqual([['old', { finalizers: ['example.com/hold'], remaining: [] }]]);
    expect(digestListPage(listBody([staying]), 'v1', 'ConfigMap').deleting).toBeUndefined();
  });

  it('answers the continue token of a page that has more after it', () => {
    expect(digestListPage(listBody([], 'next-page'), 'v1', 'ConfigMap').continue).toBe('next-page');
    expect(digestListPage(listBody([]), 'v1', 'ConfigMap').continue).toBeUndefined();
  });

  it('refuses a page that is not JSON', () => {
    expect(() => digestListPage(Buffer.from('<html>'), 'v1', 'ConfigMap')).toThrow(SyntaxError);
  });
});
