// The check of an archive against its snapshot.json (snapshots/contents.ts) and the reader's
// stream bounds (archive/reader.ts): pure, no storage or cluster.
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { VERSION_ENTRY } from '../../src/archive/format.js';
import { readArchive } from '../../src/archive/reader.js';
import { CorruptArchiveError } from '../../src/core/errors.js';
import type { KubeObject, SnapshotManifest } from '../../src/core/types.js';
import { ArchiveContentsCheck, checkArchiveKey, readLimits } from '../../src/snapshots/contents.js';
import {
  clusterRole,
  crd,
  kubeObject,
  pv,
  pvc,
  roleBindingToClusterRole,
  rule,
  saSubject,
  serviceAccount,
} from './builders.js';

const RBAC = 'rbac.authorization.k8s.io';

function manifest(over: Partial<SnapshotManifest> = {}): SnapshotManifest {
  return {
    formatVersion: 1,
    name: 'snap',
    toolVersion: '0.1.0',
    cluster: { server: 'https://x', version: 'v1.30.0' },
    selection: {
      namespaces: ['shop'],
      allNamespaces: false,
      excludeNamespaces: [],
      includeResources: [],
      excludeResources: [],
      includeClusterResources: 'auto',
    },
    namespaces: ['shop'],
    startedAt: '2024-01-01T00:00:00Z',
    completedAt: '2024-01-01T00:00:01Z',
    labels: {},
    resources: [
      { resource: 'configmaps', apiVersion: 'v1', kind: 'ConfigMap', namespaced: true, count: 1 },
      { resource: 'namespaces', apiVersion: 'v1', kind: 'Namespace', namespaced: false, count: 1 },
    ],
    totalObjects: 2,
    warnings: [],
    archive: {
      key: 'snapshots/snap/resources.tar.gz',
      size: 100,
      sha256: '0'.repeat(64),
      encrypted: false,
    },
    log: { key: 'snapshots/snap/log.jsonl.gz' },
    ...over,
  };
}

const cm = (ns: string, name: string) =>
  Buffer.from(
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns } }),
  );
const nsObj = (name: string) =>
  Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));

/** Runs entries through a check; the error message, or 'ok'. */
function run(m: SnapshotManifest, entries: [string, Buffer][]): string {
  const c = new ArchiveContentsCheck(m);
  try {
    c.entry(VERSION_ENTRY, Buffer.from('1.1.0\n'));
    for (const [n, d] of entries) c.entry(n, d);
    c.finish();
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(CorruptArchiveError);
    return (err as Error).message;
  }
}

const good: [string, Buffer][] = [
  ['resources/configmaps/namespaces/shop/a.json', cm('shop', 'a')],
  ['resources/namespaces/cluster/shop.json', nsObj('shop')],
];

describe('ArchiveContentsCheck', () => {
  it('accepts exactly what snapshot.json declares', () => {
    expect(run(manifest(), good)).toBe('ok');
  });

  it.each<[string, SnapshotManifest, [string, Buffer][], RegExp]>([
    ['a duplicate entry', manifest(), [...good, good[0] as [string, Buffer]], /appears twice/],
    [
      'an undeclared type',
      manifest(),
      [...good, ['resources/secrets/namespaces/shop/s.json', cm('shop', 's')]],
      /secrets, which snapshot.json does not list/,
    ],
    [
      'one object too many',
      manifest(),
      [...good, ['resources/configmaps/namespaces/shop/b.json', cm('shop', 'b')]],
      /more configmaps objects than the 1/,
    ],
    [
      'one object too few',
      manifest(),
      [good[1] as [string, Buffer]],
      /configmaps: snapshot.json says 1 objects, archive has 0/,
    ],
    [
      'an unlisted namespace',
      manifest(),
      [
        ['resources/configmaps/namespaces/kube-system/a.json', cm('kube-system', 'a')],
        good[1] as [string, Buffer],
      ],
      /namespace kube-system, which is not one of the snapshot's namespaces/,
    ],
    [
      'a namespace object of another namespace',
      manifest(),
      [
        good[0] as [string, Buffer],
        ['resources/namespaces/cluster/kube-system.json', nsObj('kube-system')],
      ],
      /not related to the snapshot's namespaces/,
    ],
    [
      "an object whose namespace is not its path's",
      manifest(),
      [
        ['resources/configmaps/namespaces/shop/a.json', cm('other', 'a')],
        good[1] as [string, Buffer],
      ],
      /does not hold the object its path names/,
    ],
    [
      "a kind that is not the resource's",
      manifest(),
      [
        [
          'resources/configmaps/namespaces/shop/a.json',
          Buffer.from(
            JSON.stringify({
              apiVersion: 'v1',
              kind: 'Secret',
              metadata: { name: 'a', namespace: 'shop' },
            }),
          ),
        ],
        good[1] as [string, Buffer],
      ],
      /holds a v1 Secret, not the ConfigMap of configmaps/,
    ],
    [
      'an apiVersion of another group',
      manifest(),
      [
        [
          'resources/configmaps/namespaces/shop/a.json',
          Buffer.from(
            JSON.stringify({
              apiVersion: `${RBAC}/v1`,
              kind: 'ConfigMap',
              metadata: { name: 'a', namespace: 'shop' },
            }),
          ),
        ],
        good[1] as [string, Buffer],
      ],
      /holds a rbac.authorization.k8s.io\/v1 ConfigMap/,
    ],
    [
      'invalid JSON',
      manifest(),
      [
        ['resources/configmaps/namespaces/shop/a.json', Buffer.from('{')],
        good[1] as [string, Buffer],
      ],
      /not valid JSON/,
    ],
    [
      'cluster-scoped entries with false',
      manifest({ selection: { ...manifest().selection, includeClusterResources: 'false' } }),
      good,
      /--include-cluster-resources=false/,
    ],
  ])('refuses %s', (_label, m, entries, message) => {
    expect(run(m, entries)).toMatch(message);
  });

  it('in auto mode takes only the kinds auto adds, related to the snapshot', () => {
    const crbType = {
      resource: `clusterrolebindings.${RBAC}`,
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRoleBinding',
      namespaced: false,
      count: 1,
    };
    const m = manifest({ resources: [...manifest().resources, crbType], totalObjects: 3 });
    const crb = (saNs: string) =>
      Buffer.from(
        JSON.stringify({
          apiVersion: `${RBAC}/v1`,
          kind: 'ClusterRoleBinding',
          metadata: { name: 'b' },
          roleRef: { kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: saNs }],
        }),
      );
    const path = `resources/clusterrolebindings.${RBAC}/cluster/b.json`;
    expect(run(m, [...good, [path, crb('shop')]])).toBe('ok');
    expect(run(m, [...good, [path, crb('kube-system')]])).toMatch(
      /not related to the snapshot's namespaces/,
    );
    const nodes = {
      resource: 'nodes',
      apiVersion: 'v1',
      kind: 'Node',
      namespaced: false,
      count: 1,
    };
    const node = Buffer.from(
      JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } }),
    );
    expect(
      run(manifest({ resources: [...manifest().resources, nodes], totalObjects: 3 }), [
        ...good,
        ['resources/nodes/cluster/n.json', node],
      ]),
    ).toMatch(/auto never backs up/);
  });

  it("in auto mode takes the CRDs and ClusterRoles of the namespaced entries' application closure, and no others", () => {
    const type = (resource: string, kind: string, namespaced: boolean, count = 1) => ({
      resource,
      apiVersion: resource.includes('.') ? `${resource.slice(resource.indexOf('.') + 1)}/v1` : 'v1',
      kind,
      namespaced,
      count,
    });
    const entry = (path: string, o: object): [string, Buffer] => [
      path,
      Buffer.from(JSON.stringify(o)),
    ];
    const CRDS = 'customresourcedefinitions.apiextensions.k8s.io';
    const withClosure = (roles: KubeObject[], crds: KubeObject[]) => {
      const m = manifest({
        resources: [
          ...manifest().resources,
          type('serviceaccounts', 'ServiceAccount', true),
          type(`rolebindings.${RBAC}`, 'RoleBinding', true),
          type(`clusterroles.${RBAC}`, 'ClusterRole', false, roles.length),
          type(CRDS, 'CustomResourceDefinition', false, crds.length),
        ],
        totalObjects: 4 + roles.length + crds.length,
      });
      return run(m, [
        ...good,
        entry(
          'resources/serviceaccounts/namespaces/shop/operator.json',
          serviceAccount('operator', 'shop'),
        ),
        entry(
          `resources/rolebindings.${RBAC}/namespaces/shop/op.json`,
          roleBindingToClusterRole('op', 'shop', 'op', [saSubject('operator', 'shop')]),
        ),
        ...roles.map((r) =>
          entry(`resources/clusterroles.${RBAC}/cluster/${r.metadata.name}.json`, r),
        ),
        ...crds.map((c) => entry(`resources/${CRDS}/cluster/${c.metadata.name}.json`, c)),
      ]);
    };
    const op = clusterRole('op', [rule(['example.com'], ['widgets'])]);
    const widgets = crd('example.com', 'Widget', 'widgets');
    expect(withClosure([op], [widgets])).toBe('ok');
    expect(withClosure([op, clusterRole('extra', [])], [widgets])).toMatch(
      /ClusterRole extra is named by no binding/,
    );
    expect(withClosure([op], [widgets, crd('example.com', 'Gadget', 'gadgets')])).toMatch(
      /gadgets.example.com.json is not related to the snapshot's namespaces/,
    );
  });

  it('in auto mode takes the classes the namespaced entries and their volumes name, and no others', () => {
    const SC = 'storageclasses.storage.k8s.io';
    const withClasses = (claimClass: string, volumeClass: string, classes: string[]) => {
      const m = manifest({
        resources: [
          ...manifest().resources,
          {
            resource: 'persistentvolumeclaims',
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            namespaced: true,
            count: 1,
          },
          {
            resource: 'persistentvolumes',
            apiVersion: 'v1',
            kind: 'PersistentVolume',
            namespaced: false,
            count: 1,
          },
          {
            resource: SC,
            apiVersion: 'storage.k8s.io/v1',
            kind: 'StorageClass',
            namespaced: false,
            count: classes.length,
          },
        ],
        totalObjects: 4 + classes.length,
      });
      const entry = (path: string, o: object): [string, Buffer] => [
        path,
        Buffer.from(JSON.stringify(o)),
      ];
      return run(m, [
        ...good,
        entry(
          'resources/persistentvolumeclaims/namespaces/shop/data.json',
          pvc('data', 'shop', { storageClassName: claimClass, volumeName: 'pv-1' }),
        ),
        entry(
          'resources/persistentvolumes/cluster/pv-1.json',
          pv('pv-1', {
            storageClassName: volumeClass,
            claimRef: { namespace: 'shop', name: 'data' },
          }),
        ),
        ...classes.map((c) =>
          entry(
            `resources/${SC}/cluster/${c}.json`,
            kubeObject('storage.k8s.io/v1', 'StorageClass', c, undefined),
          ),
        ),
      ]);
    };
    expect(withClasses('fast', 'slow', ['fast', 'slow'])).toBe('ok');
    expect(withClasses('fast', 'fast', ['fast', 'other'])).toMatch(
      /storageclasses.storage.k8s.io\/cluster\/other.json is not related to the snapshot's namespaces/,
    );
  });

  it('requires metadata/version', () => {
    const c = new ArchiveContentsCheck(manifest());
    for (const [n, d] of good) c.entry(n, d);
    expect(() => c.finish()).toThrow(/missing metadata\/version/);
  });

  it("refuses an archive key that is not the snapshot's own", () => {
    expect(() => checkArchiveKey(manifest())).not.toThrow();
    const m = manifest();
    expect(() =>
      checkArchiveKey({ ...m, archive: { ...m.archive, key: 'snapshots/other/resources.tar.gz' } }),
    ).toThrow(CorruptArchiveError);
  });

  it('bounds inflating by the recorded size, or generously for old snapshots', () => {
    const m = manifest();
    expect(
      readLimits({ ...m, archive: { ...m.archive, inflatedSize: 1000 } }).maxInflatedBytes,
    ).toBeLessThan(100_000);
    expect(readLimits({ ...m, archive: { ...m.archive, size: 10 ** 7 } }).maxInflatedBytes).toBe(
      2 * 10 ** 9,
    );
    expect(readLimits(m).maxEntryBytes).toBe(3 * 1024 * 1024);
  });
});

async function tar(entries: [string, string][]): Promise<Buffer> {
  const p = pack();
  for (const [n, d] of entries) p.entry({ name: n }, d);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function readError(bytes: Buffer, opts = {}): Promise<string> {
  const names: string[] = [];
  try {
    await readArchive(Readable.from([bytes]), (e) => void names.push(e.name), opts);
    return `ok ${names.join(',')}`;
  } catch (err) {
    expect(err).toBeInstanceOf(CorruptArchiveError);
    return (err as Error).message;
  }
}

describe('readArchive stream bounds', () => {
  it('refuses entries after the end-of-archive marker, in the same gzip member or another', async () => {
    const a = await tar([['a', '1']]);
    const b = await tar([['b', '2']]);
    expect(await readError(gzipSync(a))).toBe('ok a');
    expect(await readError(gzipSync(Buffer.concat([a, b])))).toMatch(
      /data after its tar end-of-archive marker/,
    );
    expect(await readError(Buffer.concat([gzipSync(a), gzipSync(b)]))).toMatch(
      /data after its tar end-of-archive marker/,
    );
  });

  it('accepts a tar split over many gzip members, as our writer makes it', async () => {
    const a = await tar([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(
      await readError(Buffer.concat([gzipSync(a.subarray(0, 700)), gzipSync(a.subarray(700))])),
    ).toBe('ok a,b');
  });

  it('refuses a missing end-of-archive marker, bytes after the gzip data, and too much padding', async () => {
    const a = await tar([['a', '1']]);
    expect(await readError(gzipSync(a.subarray(0, a.length - 1024)))).toMatch(
      /no end-of-archive marker/,
    );
    expect(await readError(Buffer.concat([gzipSync(a), Buffer.alloc(10)]))).toMatch(
      /bytes after the end of its gzip data/,
    );
    expect(await readError(gzipSync(Buffer.concat([a, Buffer.alloc(64 * 1024)])))).toMatch(
      /bytes after its last entry/,
    );
  });

  it('stops once the tar inflates past the limit, and refuses oversized entries from the header', async () => {
    const big = await tar([['a', 'x'.repeat(100_000)]]);
    expect(await readError(gzipSync(big), { maxInflatedBytes: 50_000 })).toMatch(
      /inflates to more than 50000 bytes/,
    );
    expect(await readError(gzipSync(big), { maxEntryBytes: 1000 })).toMatch(
      /is 100000 bytes, over the 1000-byte limit/,
    );
  });
});
