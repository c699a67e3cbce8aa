// Velero backups read as snapshots (snapshots/velero/): a Velero backup storage location in a
// directory, its tarballs built byte by byte, honest and hostile.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CorruptArchiveError, UserError } from '../../src/core/errors.js';
import type { KubeObject } from '../../src/core/types.js';
import { loadSnapshot } from '../../src/restore/snapshot.js';
import { resolveScheduleStorage } from '../../src/schedule/storage.js';
import { readCheckedArchive } from '../../src/snapshots/contents.js';
import { VeleroRepository } from '../../src/snapshots/velero/repository.js';
import { verifySnapshot } from '../../src/snapshots/verify.js';
import { addLocation } from '../../src/storage/config.js';
import { FsStore } from '../../src/storage/fs.js';
import { locationUrl, parseLocationUrl } from '../../src/storage/location-url.js';
import { resolveLocation } from '../../src/storage/locations.js';
import { configMap, namespace } from './builders.js';

/** One ustar header block for a regular file (or `type`) of `size` bytes. */
function header(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/** A gzip'd tar of these entries, each written exactly as given. */
function tarball(entries: [string, Buffer | string][]): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, body] of entries) {
    const data = Buffer.from(body);
    blocks.push(header(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

const json = (o: unknown) => JSON.stringify(o);

function veleroBackup(name: string, phase = 'Completed'): object {
  return {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: {
      name,
      namespace: 'velero',
      annotations: { 'velero.io/source-cluster-k8s-gitversion': 'v1.33.0' },
    },
    spec: { includedNamespaces: ['shop'], ttl: '720h0m0s' },
    status: {
      phase,
      formatVersion: '1.1.0',
      startTimestamp: '2026-01-01T00:00:00Z',
      completionTimestamp: '2026-01-01T00:00:05Z',
      expiration: '2026-01-31T00:00:00Z',
      progress: { totalItems: 3, itemsBackedUp: 3 },
    },
  };
}

const settings = {
  ...configMap('settings', 'shop', { a: '1' }),
  metadata: {
    name: 'settings',
    namespace: 'shop',
    labels: { app: 'web', 'velero.io/backup-name': 'old', 'velero.io/restore-name': 'old-r' },
  },
};
const event = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'e1', namespace: 'shop' },
  reason: 'Started',
};

/** What Velero 1.17 writes for a backup of namespace shop: every object twice, plus an event. */
function honestEntries(): [string, Buffer | string][] {
  return [
    ['metadata/version', '1.1.0'],
    ['resources/configmaps/namespaces/shop/settings.json', json(settings)],
    ['resources/configmaps/v1-preferredversion/namespaces/shop/settings.json', json(settings)],
    ['resources/events/namespaces/shop/e1.json', json(event)],
    ['resources/events/v1-preferredversion/namespaces/shop/e1.json', json(event)],
    ['resources/namespaces/cluster/shop.json', json(namespace('shop'))],
    ['resources/namespaces/v1-preferredversion/cluster/shop.json', json(namespace('shop'))],
  ];
}

const honestList = {
  'v1/ConfigMap': ['shop/settings'],
  'v1/Event': ['shop/e1'],
  'v1/Namespace': ['shop'],
};

/** A Velero backup storage location in a directory with one backup `b1`. */
function location(
  entries = honestEntries(),
  list: object = honestList,
  phase = 'Completed',
): { dir: string; repo: VeleroRepository } {
  const dir = mkdtempSync(join(tmpdir(), 'ks-velero-'));
  const b = join(dir, 'backups', 'b1');
  mkdirSync(b, { recursive: true });
  writeFileSync(join(b, 'velero-backup.json'), json(veleroBackup('b1', phase)));
  writeFileSync(join(b, 'b1.tar.gz'), tarball(entries));
  writeFileSync(join(b, 'b1-resource-list.json.gz'), gzipSync(json(list)));
  return { dir, repo: new VeleroRepository(new FsStore(dir)) };
}

async function objectsOf(repo: VeleroRepository): Promise<KubeObject[]> {
  const m = await repo.readManifest('b1');
  const out: KubeObject[] = [];
  await readCheckedArchive(repo, m, undefined, ({ object }) => {
    out.push(object);
  });
  return out;
}

describe('a Velero backup storage location', () => {
  it('is a location URL option, kept in the canonical URL of S3 and directory locations', () => {
    const s3 = parseLocationUrl('s3://bucket/velero?layout=velero&pathStyle=true');
    expect(s3).toMatchObject({ kind: 's3', prefix: 'velero', layout: 'velero' });
    expect(locationUrl(s3)).toBe('s3://bucket/velero?pathStyle=true&layout=velero');
    const file = parseLocationUrl('file:///srv/velero?layout=velero');
    expect(file).toEqual({ kind: 'file', dir: '/srv/velero', layout: 'velero' });
    expect(locationUrl(file)).toBe('file:///srv/velero?layout=velero');
    expect(() => parseLocationUrl('s3://bucket?layout=kopia')).toThrow(/layout must be velero/);
    expect(() => parseLocationUrl('file:///srv?endpoint=x')).toThrow(/layout=velero/);
  });

  it('can be saved as a named location, and resolves to the Velero layout by its name', async () => {
    const env = { KUBECTL_SNAPSHOT_CONFIG: join(mkdtempSync(join(tmpdir(), 'ks-cfg-')), 'c.json') };
    const saved = await addLocation('old-velero', 's3://bucket/velero?layout=velero', {}, env);
    expect(saved.url).toBe('s3://bucket/velero?layout=velero');
    expect(await resolveLocation('old-velero', env)).toMatchObject({ layout: 'velero' });
  });

  it('lists every backup from velero-backup.json with Velero’s phase, failed ones too', async () => {
    const { dir, repo } = location();
    const f = join(dir, 'backups', 'b2');
    mkdirSync(f, { recursive: true });
    writeFileSync(join(f, 'velero-backup.json'), json(veleroBackup('b2', 'Failed')));
    const { snapshots } = await repo.list();
    expect(snapshots.map((s) => [s.name, s.velero?.phase, s.totalObjects])).toEqual([
      ['b1', 'Completed', 3],
      ['b2', 'Failed', 3],
    ]);
  });

  it('describes the types from the preferred-version entries, events left out as Velero does', async () => {
    const m = await location().repo.readManifest('b1');
    expect(m.resources).toEqual([
      { resource: 'configmaps', apiVersion: 'v1', kind: 'ConfigMap', namespaced: true, count: 1 },
      { resource: 'namespaces', apiVersion: 'v1', kind: 'Namespace', namespaced: false, count: 1 },
    ]);
    expect(m.namespaces).toEqual(['shop']);
    expect(m.totalObjects).toBe(2);
    expect(m.expiresAt).toBe('2026-01-31T00:00:00Z');
    expect(m.velero).toMatchObject({ phase: 'Completed', notRestored: 1, preferredVersions: true });
    expect(m.warnings.map((w) => w.message).join()).toMatch(/Velero never restores/);
  });

  it('gives a restore each object once, labelled with the backup and without a stale restore name', async () => {
    const objs = await objectsOf(location().repo);
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/settings',
      'Namespace/shop',
    ]);
    expect(objs[0]?.metadata.labels).toEqual({ app: 'web', 'velero.io/backup-name': 'b1' });
  });

  it('reads a format 1.0 backup from its classic entries and ignores other API versions', async () => {
    const classic = honestEntries().filter(([n]) => !n.includes('preferredversion'));
    classic.push([
      'resources/configmaps/v1beta1/namespaces/shop/settings.json',
      json({ ...settings, apiVersion: 'v1beta1' }),
    ]);
    const { repo } = location(classic);
    expect((await repo.readManifest('b1')).velero?.preferredVersions).toBe(false);
    expect((await objectsOf(repo)).map((o) => `${o.apiVersion} ${o.kind}`)).toEqual([
      'v1 ConfigMap',
      'v1 Namespace',
    ]);
  });

  it('verifies the objects and reports that no checksum was recorded', async () => {
    const r = await verifySnapshot(location().repo, 'b1');
    expect(r).toMatchObject({ ok: true, objects: 2, checksumRecorded: false });
  });

  it('refuses a path that leaves the archive before reading any object', async () => {
    const entries = honestEntries();
    entries.splice(1, 0, ['resources/../../etc/cron.d/x.json', json(settings)]);
    await expect(location(entries).repo.readManifest('b1')).rejects.toThrow(
      /unsafe entry name in archive/,
    );
  });

  it('refuses an archive holding an object its resource list does not name', async () => {
    const other = { ...settings, metadata: { name: 'extra', namespace: 'shop' } };
    const entries = honestEntries();
    entries[2] = [
      'resources/configmaps/v1-preferredversion/namespaces/shop/extra.json',
      json(other),
    ];
    await expect(location(entries).repo.readManifest('b1')).rejects.toThrow(
      /holds v1\/ConfigMap shop\/extra, which its resource list does not name/,
    );
  });

  it('refuses more objects than its resource list names, as they arrive', async () => {
    const entries = honestEntries();
    for (const n of ['x1', 'x2'])
      entries.push([
        `resources/configmaps/v1-preferredversion/namespaces/shop/${n}.json`,
        json({ ...settings, metadata: { name: n, namespace: 'shop' } }),
      ]);
    await expect(location(entries).repo.readManifest('b1')).rejects.toThrow(
      /more objects than the 3 its resource list names/,
    );
  });

  it('refuses a resource list naming objects the archive lacks', async () => {
    const list = { ...honestList, 'v1/ConfigMap': ['shop/settings', 'shop/gone'] };
    await expect(location(undefined, list).repo.readManifest('b1')).rejects.toThrow(
      /resource list names 2 v1\/ConfigMap objects, its archive has 1/,
    );
  });

  it('refuses an entry whose object is not the one its path names', async () => {
    const entries = honestEntries();
    entries[2] = [
      'resources/configmaps/v1-preferredversion/namespaces/shop/settings.json',
      json({ ...settings, metadata: { name: 'other', namespace: 'shop' } }),
    ];
    await expect(location(entries).repo.readManifest('b1')).rejects.toBeInstanceOf(
      CorruptArchiveError,
    );
  });

  it('refuses an oversized entry from its header, before its data', async () => {
    const dir = location().dir;
    const big = Buffer.concat([
      header('metadata/version', 5),
      Buffer.from('1.1.0'.padEnd(512, '\0')),
      header('resources/configmaps/v1-preferredversion/namespaces/shop/big.json', 4 * 1024 * 1024),
      Buffer.alloc(512),
    ]);
    writeFileSync(join(dir, 'backups', 'b1', 'b1.tar.gz'), gzipSync(big));
    await expect(new VeleroRepository(new FsStore(dir)).readManifest('b1')).rejects.toThrow(
      /over the 3145728-byte limit/,
    );
  });

  it('refuses a tarball that changed after the first read', async () => {
    const { dir, repo } = location();
    const m = await repo.readManifest('b1');
    const changed = honestEntries();
    changed[2] = [
      'resources/configmaps/v1-preferredversion/namespaces/shop/settings.json',
      json({ ...settings, data: { a: 'evil' } }),
    ];
    writeFileSync(join(dir, 'backups', 'b1', 'b1.tar.gz'), tarball(changed));
    await expect(readCheckedArchive(repo, m)).rejects.toThrow(/changed while it was read/);
  });

  it('refuses to restore a Failed backup unless partial backups are allowed', async () => {
    const { repo } = location(undefined, undefined, 'Failed');
    const options = {
      namespaces: [],
      mapping: new Map<string, string>(),
      includeResources: [],
      excludeResources: [],
      includeClusterResources: 'auto' as const,
      preserveNodePorts: false,
    };
    await expect(loadSnapshot(repo, 'b1', undefined, { options })).rejects.toThrow(
      /is Failed, not Completed or PartiallyFailed/,
    );
    const snap = await loadSnapshot(repo, 'b1', undefined, { options, allowPartial: true });
    expect(snap.objects.map((o) => o.name)).toEqual(['settings', 'shop']);
    await snap.close();
  });

  it('is refused as the storage of a schedule, which would write there', async () => {
    await expect(
      resolveScheduleStorage('s3://bucket/velero?layout=velero', {
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
      }),
    ).rejects.toThrow(/is a Velero backup storage location: it is read-only for us/);
  });

  it('refuses to delete there (Velero owns the files) and to write a backup name Velero has', async () => {
    const { repo } = location();
    await expect(repo.delete()).rejects.toBeInstanceOf(UserError);
    await expect(repo.claim('b1', new Date())).rejects.toThrow(
      /Velero backup "b1" .* already exists/,
    );
  });
});
