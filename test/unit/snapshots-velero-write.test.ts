// Backups of ours in Velero's layout (snapshots/velero/write.ts, draft.ts): what
// velero-backup.json says, how the tarball names each object, and that our own reader of
// Velero backups reads every file back.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/writer.js';
import { AlreadyExistsError } from '../../src/core/errors.js';
import type { KubeObject } from '../../src/core/types.js';
import { readCheckedArchive } from '../../src/snapshots/contents.js';
import type { ManifestFields } from '../../src/snapshots/draft.js';
import { labelSelectorText, manifestFromBackup } from '../../src/snapshots/velero/backup.js';
import { parseVeleroEntryPath, veleroEntryPaths } from '../../src/snapshots/velero/entries.js';
import { chooseBackupFormat, VELERO_DEFAULT_TTL_MS } from '../../src/snapshots/velero/format.js';
import { VeleroRepository } from '../../src/snapshots/velero/repository.js';
import {
  goDuration,
  labelSelectorOf,
  veleroBackupJson,
  veleroLogText,
} from '../../src/snapshots/velero/write.js';
import { FsStore } from '../../src/storage/fs.js';
import { configMap, crd, deployment, namespace, selection } from './builders.js';

const STARTED = '2026-03-01T10:00:00.123Z';

function fields(name: string, extra: Partial<ManifestFields> = {}): ManifestFields {
  return {
    formatVersion: 1,
    name,
    toolVersion: '1.2.3',
    cluster: { server: 'https://k8s.example:6443', version: 'v1.33.2' },
    selection: selection(['shop']),
    namespaces: ['shop'],
    startedAt: STARTED,
    completedAt: '2026-03-01T10:00:04.900Z',
    expiresAt: new Date(Date.parse(STARTED) + VELERO_DEFAULT_TTL_MS).toISOString(),
    labels: { team: 'a' },
    resources: [],
    totalObjects: 4,
    phase: 'Completed',
    warnings: [],
    ...extra,
  } as ManifestFields;
}

type Json = Record<string, Record<string, unknown>>;
const backupOf = (f: ManifestFields) => JSON.parse(veleroBackupJson(f).toString()) as Json;

describe('velero-backup.json of a backup of ours', () => {
  it('is a Completed velero.io/v1 Backup of format 1.1.0 with its times, TTL and selection', () => {
    const b = backupOf(fields('shop-1'));
    expect(b).toMatchObject({
      apiVersion: 'velero.io/v1',
      kind: 'Backup',
      metadata: {
        name: 'shop-1',
        namespace: 'velero',
        labels: { team: 'a' },
        annotations: {
          'velero.io/source-cluster-k8s-gitversion': 'v1.33.2',
          'velero.io/source-cluster-k8s-major-version': '1',
          'velero.io/source-cluster-k8s-minor-version': '33',
        },
      },
      spec: { includedNamespaces: ['shop'], ttl: '720h0m0s', snapshotVolumes: false },
      status: {
        version: 1,
        formatVersion: '1.1.0',
        phase: 'Completed',
        startTimestamp: '2026-03-01T10:00:00Z',
        completionTimestamp: '2026-03-01T10:00:04Z',
        expiration: '2026-03-31T10:00:00Z',
        progress: { totalItems: 4, itemsBackedUp: 4 },
      },
    });
    // auto (the related cluster objects) is Velero's unset includeClusterResources.
    expect(b.spec).not.toHaveProperty('includeClusterResources');
  });

  it('records -A as every namespace, and the filters, which our reader of Velero backups reads back', () => {
    const sel = selection([], {
      allNamespaces: true,
      excludeNamespaces: ['kube-system'],
      labelSelector: 'app=web,tier in (a,b),!legacy',
      includeResources: ['deployments', 'configmaps'],
      excludeResources: ['secrets'],
      includeClusterResources: 'false',
    });
    const f = fields('all-1', { selection: sel, namespaces: ['a', 'b'] });
    const b = backupOf(f);
    expect(b.spec).toMatchObject({
      includedNamespaces: ['*'],
      excludedNamespaces: ['kube-system'],
      includedResources: ['deployments', 'configmaps'],
      excludedResources: ['secrets'],
      includeClusterResources: false,
    });
    const m = manifestFromBackup(veleroBackupJson(f), 'all-1');
    expect(m.selection).toEqual({ ...sel, labelSelector: 'app=web,tier in (a,b),!legacy' });
    expect(m).toMatchObject({
      toolVersion: 'kubectl-snapshot 1.2.3 (Velero backup format 1.1.0)',
      startedAt: '2026-03-01T10:00:00Z',
      labels: { team: 'a' },
      phase: 'Completed',
      totalObjects: 4,
    });
  });

  it('is PartiallyFailed, counting what was left out as errors, when types could not be read', () => {
    const f = fields('p-1', { phase: 'PartiallyFailed', warnings: [{ message: 'forbidden' }] });
    expect(backupOf(f).status).toMatchObject({ phase: 'PartiallyFailed', errors: 1 });
    expect(manifestFromBackup(veleroBackupJson(f), 'p-1').phase).toBe('PartiallyFailed');
  });

  it('writes a TTL as Go prints durations, as Velero does', () => {
    expect(goDuration(VELERO_DEFAULT_TTL_MS)).toBe('720h0m0s');
    expect(goDuration(90 * 60_000)).toBe('1h30m0s');
    expect(goDuration(5 * 60_000)).toBe('5m0s');
    expect(goDuration(45_000)).toBe('45s');
  });

  it('turns a kubectl selector into a LabelSelector that reads back the same', () => {
    const s = labelSelectorOf('app=web,tier!=cache,env in (prod,staging),!legacy,owner');
    expect(s).toEqual({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'NotIn', values: ['cache'] },
        { key: 'env', operator: 'In', values: ['prod', 'staging'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'owner', operator: 'Exists' },
      ],
    });
    expect(labelSelectorText('x', s)).toBe(
      'app=web,tier notin (cache),env in (prod,staging),!legacy,owner',
    );
  });
});

describe("Velero's entry names for an object", () => {
  it('are the classic path and the same under <version>-preferredversion, as Velero writes them', () => {
    const paths = veleroEntryPaths(
      { resource: 'deployments.apps', namespace: 'shop', name: 'web' },
      'v1',
    );
    expect(paths).toEqual([
      'resources/deployments.apps/namespaces/shop/web.json',
      'resources/deployments.apps/v1-preferredversion/namespaces/shop/web.json',
    ]);
    expect(paths.map((p) => parseVeleroEntryPath(p)?.variant)).toEqual(['classic', 'preferred']);
    expect(veleroEntryPaths({ resource: 'namespaces', name: 'shop' }, 'v1')[1]).toBe(
      'resources/namespaces/v1-preferredversion/cluster/shop.json',
    );
  });
});

describe('the log of a backup in Velero format', () => {
  it("is logrus's text format, as velero backup logs shows Velero's", () => {
    expect(
      veleroLogText([
        {
          ts: '2026-03-01T10:00:01Z',
          level: 'info',
          msg: 'listed',
          resource: 'configmaps',
          count: 2,
        },
        { ts: '2026-03-01T10:00:02Z', level: 'warning', msg: 'skipped "x": forbidden' },
      ]),
    ).toBe(
      'time="2026-03-01T10:00:01Z" level=info msg="listed" resource=configmaps count=2\n' +
        'time="2026-03-01T10:00:02Z" level=warn msg="skipped \\"x\\": forbidden"\n',
    );
  });
});

describe('choosing the archive format', () => {
  const base = { encrypted: false, signed: false };
  it("is ours by default, Velero's with --format velero or in a layout=velero location", () => {
    expect(chooseBackupFormat(base)).toBe('snapshot');
    expect(chooseBackupFormat({ ...base, flag: 'velero' })).toBe('velero');
    expect(chooseBackupFormat({ ...base, layout: 'velero' })).toBe('velero');
  });

  it('refuses encryption, signing and an encrypted-only location for Velero format, saying why', () => {
    expect(() => chooseBackupFormat({ ...base, flag: 'velero', encrypted: true })).toThrow(
      /cannot be encrypted: Velero could not read it/,
    );
    expect(() => chooseBackupFormat({ ...base, layout: 'velero', signed: true })).toThrow(
      /cannot be signed/,
    );
    expect(() =>
      chooseBackupFormat({ ...base, flag: 'velero', requireEncryption: true, locationName: 'x' }),
    ).toThrow(/location "x" requires encrypted backups/);
    expect(() => chooseBackupFormat({ ...base, flag: 'snapshot', layout: 'velero' })).toThrow(
      /holds only backups in Velero format/,
    );
  });
});

/** Objects and their qualified resources, as discovery would name them. */
const stored: [KubeObject, string][] = [
  [namespace('shop'), 'namespaces'],
  [crd('example.com', 'Widget', 'widgets'), 'customresourcedefinitions.apiextensions.k8s.io'],
  [configMap('settings', 'shop', { a: '1' }), 'configmaps'],
  [deployment('web', 'shop'), 'deployments.apps'],
];
const objects = stored.map(([o]) => o);

/** Writes `objects` as the backup does, through the draft of a Velero location in a directory. */
async function writeBackup(dir: string, name: string): Promise<void> {
  const repo = new VeleroRepository(new FsStore(dir));
  const draft = await repo.claim(name, new Date(STARTED));
  const writer = new ArchiveWriter(new Date(STARTED), draft.entryMode);
  await draft.startArchive(writer.output);
  for (const [o, resource] of stored) {
    const loc = { resource, namespace: o.metadata.namespace, name: o.metadata.name };
    for (const p of draft.entryPaths({ loc, apiVersion: o.apiVersion, kind: o.kind }))
      await writer.add(p, Buffer.from(JSON.stringify(o)));
  }
  const tar = await writer.finish();
  await draft.writeLog([{ ts: STARTED, level: 'info', msg: 'listed' }]);
  await draft.commit(fields(name, { totalObjects: objects.length }), {
    inflatedSize: tar.inflatedBytes,
  });
}

describe('a backup written in Velero format', () => {
  it('holds the files Velero reads, its entries mode 0755, and our list and restore read it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-velero-write-'));
    await writeBackup(dir, 'shop-1');
    const b = join(dir, 'backups', 'shop-1');
    expect(
      JSON.parse(gunzipSync(readFileSync(join(b, 'shop-1-volumesnapshots.json.gz'))).toString()),
    ).toEqual([]);
    expect(
      JSON.parse(gunzipSync(readFileSync(join(b, 'shop-1-resource-list.json.gz'))).toString()),
    ).toEqual({
      'apiextensions.k8s.io/v1/CustomResourceDefinition': ['widgets.example.com'],
      'apps/v1/Deployment': ['shop/web'],
      'v1/ConfigMap': ['shop/settings'],
      'v1/Namespace': ['shop'],
    });
    expect(gunzipSync(readFileSync(join(b, 'shop-1-logs.gz'))).toString()).toMatch(
      /^time=".*" level=info msg="listed"\n$/,
    );
    const tar = gunzipSync(readFileSync(join(b, 'shop-1.tar.gz')));
    // The first entry after metadata/version: its header's mode field.
    expect(tar.subarray(1024 + 100, 1024 + 107).toString()).toBe('0000755');

    const repo = new VeleroRepository(new FsStore(dir));
    const listed = await repo.list();
    expect(listed.snapshots.map((m) => [m.name, m.phase])).toEqual([['shop-1', 'Completed']]);
    const m = await repo.readManifest('shop-1');
    expect(m.velero).toMatchObject({ phase: 'Completed', preferredVersions: true });
    expect(m.totalObjects).toBe(objects.length);
    const read: KubeObject[] = [];
    await readCheckedArchive(repo, m, undefined, ({ object }) => {
      read.push(object);
    });
    expect(read.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(),
    );
  });

  it('leaves nothing behind when it is aborted before velero-backup.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-velero-write-'));
    const repo = new VeleroRepository(new FsStore(dir));
    const draft = await repo.claim('gone-1', new Date(STARTED));
    const writer = new ArchiveWriter(new Date(STARTED), draft.entryMode);
    await draft.startArchive(writer.output);
    await writer.finish();
    await draft.writeLog([{ ts: STARTED, level: 'info', msg: 'listed' }]);
    expect(await draft.abort()).toBe(true);
    const left: string[] = [];
    for await (const o of new FsStore(dir).list('backups/')) left.push(o.key);
    expect(left).toEqual([]);
    expect((await repo.list()).snapshots).toEqual([]);
  });

  it('takes no name a backup already has there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-velero-write-'));
    await writeBackup(dir, 'shop-1');
    const repo = new VeleroRepository(new FsStore(dir));
    await expect(repo.claim('shop-1', new Date())).rejects.toBeInstanceOf(AlreadyExistsError);
  });
});
