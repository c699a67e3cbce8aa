// The two kinds of storage location a backup can write to, as e2e tests need them: how the
// CLI is pointed at one, every key it holds (temporary files and incomplete multipart uploads
// included, so "nothing written" means nothing), and direct access to stored bytes so tests
// can read an archive or damage it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { parseObjectEntryPath, VERSION_ENTRY } from '../../src/archive/format.js';
import { readArchive } from '../../src/archive/reader.js';
import type { KubeObject, SnapshotManifest } from '../../src/core/types.js';
import { parseLocationUrl } from '../../src/storage/location-url.js';
import { openStore } from '../../src/storage/locations.js';
import { S3Store } from '../../src/storage/s3.js';
import { getBuffer, type ObjectStore } from '../../src/storage/store.js';
import { type CliResult, cli, cluster, minio, s3Url, tempDir, uniqueName } from './helpers.js';

export interface StorageKind {
  /** For test names: "a directory", "MinIO". */
  label: string;
  /** CLI flags selecting this location (none for the default directory). */
  args: string[];
  /** Environment for the CLI (XDG dirs, S3 credentials). */
  env: NodeJS.ProcessEnv;
  /** The location as a URL or path, for openStore. */
  location: string;
  /** Runs the CLI against this location. */
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** The ObjectStore the CLI uses, opened in-process; S3 with `partSize` if given. */
  store(opts?: { partSize?: number }): Promise<ObjectStore>;
  /** Every key below the location, including temporary files / incomplete uploads. */
  /**
   * Every stored key, hidden and temporary ones included. MinIO lists incomplete multipart
   * uploads only by exact object name, so pass the snapshot names whose archive uploads to look for.
   */
  allKeys(snapshots?: string[]): Promise<string[]>;
  readRaw(key: string): Promise<Buffer>;
  writeRaw(key: string, data: Buffer): Promise<void>;
}

function s3Env(): NodeJS.ProcessEnv {
  const { s3 } = cluster();
  return { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey };
}

/** Every file below `root` ('/'-separated, relative), hidden and temporary files included. */
export function filesBelow(root: string): string[] {
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => !d.isDirectory())
    .map((d) => relative(root, join(d.parentPath, d.name)).split(sep).join('/'))
    .sort();
}

/**
 * A fresh directory. With `viaXdg`, the CLI gets no --storage flag at all and writes to its
 * default location `$XDG_DATA_HOME/kubectl-snapshot` (XDG_CONFIG_HOME is fresh too, so no
 * named default location can interfere).
 */
export function directoryStorage(opts: { viaXdg?: boolean } = {}): StorageKind {
  const base = tempDir('ks-backup-');
  const env: NodeJS.ProcessEnv = opts.viaXdg
    ? { XDG_DATA_HOME: join(base, 'data'), XDG_CONFIG_HOME: join(base, 'config') }
    : { XDG_CONFIG_HOME: join(base, 'config') };
  const root = opts.viaXdg ? join(base, 'data', 'kubectl-snapshot') : join(base, 'store');
  const args = opts.viaXdg ? [] : ['--storage', root];
  const kind: StorageKind = {
    label: opts.viaXdg ? 'the default directory ($XDG_DATA_HOME)' : 'a directory (--storage)',
    args,
    env,
    location: root,
    cli: (a, e = {}) => cli([...a, ...args], { ...env, ...e }),
    store: () => openStore(parseLocationUrl(root), env),
    allKeys: async () => filesBelow(root),
    readRaw: async (key) => readFileSync(join(root, ...key.split('/'))),
    writeRaw: async (key, data) => {
      const path = join(root, ...key.split('/'));
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, data);
    },
  };
  return kind;
}

/** A unique prefix in the harness's MinIO bucket. */
export function minioStorage(): StorageKind {
  const prefix = `backup-e2e/${uniqueName('p')}`;
  const url = s3Url(prefix);
  const env = { ...s3Env(), XDG_CONFIG_HOME: join(tempDir('ks-cfg-'), 'config') };
  const { bucket } = cluster().s3;
  const args = ['--storage', url];
  return {
    label: 'MinIO (s3://)',
    args,
    env,
    location: url,
    cli: (a, e = {}) => cli([...a, ...args], { ...env, ...e }),
    store: async (o = {}) =>
      o.partSize === undefined
        ? openStore(parseLocationUrl(url, env), env)
        : new S3Store({
            bucket,
            prefix,
            endpoint: cluster().s3.endpoint,
            region: 'us-east-1',
            pathStyle: true,
            credentials: { accessKey: cluster().s3.accessKey, secretKey: cluster().s3.secretKey },
            partSize: o.partSize,
          }),
    allKeys: async (snapshots = []) => {
      const keys: string[] = [];
      const mc = minio();
      for await (const o of mc.listObjectsV2(bucket, `${prefix}/`, true) as AsyncIterable<{
        name?: string;
      }>) {
        if (o.name) keys.push(o.name.slice(prefix.length + 1));
      }
      for (const name of snapshots) {
        const key = `${prefix}/snapshots/${name}/resources.tar.gz`;
        for await (const u of mc.listIncompleteUploads(bucket, key, true) as AsyncIterable<{
          key: string;
        }>) {
          keys.push(`(incomplete upload) ${u.key.slice(prefix.length + 1)}`);
        }
      }
      return keys.sort();
    },
    readRaw: async (key) => {
      const chunks: Buffer[] = [];
      for await (const c of await minio().getObject(bucket, `${prefix}/${key}`)) chunks.push(c);
      return Buffer.concat(chunks);
    },
    writeRaw: async (key, data) => {
      await minio().putObject(bucket, `${prefix}/${key}`, data, data.length);
    },
  };
}

/** Both kinds, for describe.each: the default directory and MinIO. */
export const storageKinds: [string, () => StorageKind][] = [
  ['the default directory ($XDG_DATA_HOME)', () => directoryStorage({ viaXdg: true })],
  ['MinIO', () => minioStorage()],
];

export interface ReadSnapshot {
  manifest: SnapshotManifest;
  /** Every archive entry name in archive order, duplicates kept. */
  entries: string[];
  /** Object entries by path. */
  objects: Map<string, KubeObject>;
  /** Object count per qualified resource, from the archive. */
  counts: Map<string, number>;
  /** What reading the stored archive measured. */
  archive: { size: number; sha256: string };
  log: Record<string, unknown>[];
}

/** Reads a stored snapshot the way a user's tools would: snapshot.json, then the archive. */
export async function readSnapshot(storage: StorageKind, name: string): Promise<ReadSnapshot> {
  const store = await storage.store();
  // The layout written out, not taken from the code under test.
  const key = (file: string) => `snapshots/${name}/${file}`;
  const manifest = JSON.parse(
    (await getBuffer(store, key('snapshot.json'))).toString('utf8'),
  ) as SnapshotManifest;
  const stored = await getBuffer(store, key('resources.tar.gz'));
  const archive = {
    size: stored.length,
    sha256: createHash('sha256').update(stored).digest('hex'),
  };
  const entries: string[] = [];
  const objects = new Map<string, KubeObject>();
  const counts = new Map<string, number>();
  await readArchive(Readable.from([stored]), ({ name: entry, data }) => {
    entries.push(entry);
    if (entry === VERSION_ENTRY) return;
    const loc = parseObjectEntryPath(entry);
    if (!loc) throw new Error(`unexpected archive entry ${entry}`);
    objects.set(entry, JSON.parse(data.toString('utf8')) as KubeObject);
    counts.set(loc.resource, (counts.get(loc.resource) ?? 0) + 1);
  });
  const log = gunzipSync(await getBuffer(store, key('log.jsonl.gz')))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { manifest, entries, objects, counts, archive, log };
}

/** Velero-layout entry path of a namespaced object. */
export const nsPath = (resource: string, ns: string, name: string) =>
  `resources/${resource}/namespaces/${ns}/${name}.json`;
/** Velero-layout entry path of a cluster-scoped object. */
export const clusterPath = (resource: string, name: string) =>
  `resources/${resource}/cluster/${name}.json`;

/** Object entry paths of a snapshot below `resources/<resource>/`. */
export function pathsOf(s: ReadSnapshot, resource: string): string[] {
  return [...s.objects.keys()].filter((p) => p.startsWith(`resources/${resource}/`)).sort();
}

/**
 * A failure the way a user should see it: exit code 1, nothing on stdout, and on stderr one
 * `error: …` line (plus at most one hint line), no stack trace.
 */
export function expectCleanError(r: CliResult, message: RegExp): void {
  const lines = r.stderr.trimEnd().split('\n');
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
  expect(lines.length, r.stderr).toBeLessThanOrEqual(2);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}
