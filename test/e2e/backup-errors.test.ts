// How `kubectl snapshot backup` fails: one clear `error:` line (plus a hint), exit code 1 and
// nothing written, for every cause a user meets; and what an interrupted upload leaves behind.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/run.js';
import type { Selection } from '../../src/core/types.js';
import { KubeClient } from '../../src/kube/client.js';
import { SnapshotRepository } from '../../src/snapshots/repository.js';
import { getBuffer, type ObjectStore } from '../../src/storage/store.js';
import { freePort } from '../cluster/harness.js';
import { configMap, create, namespace } from './fixtures.js';
import { cli, cluster, kubeconfigAt, minio, objects, tempDir, uniqueName } from './helpers.js';
import {
  directoryStorage,
  expectCleanError,
  minioStorage,
  type StorageKind,
  storageKinds,
} from './storage-kinds.js';

const MiB = 1024 * 1024;

/** A copy of the admin kubeconfig whose server is a loopback port nobody listens on. */
async function unreachableKubeconfig(): Promise<string> {
  return kubeconfigAt(`https://127.0.0.1:${await freePort()}`);
}

/** The three storage situations of the "nothing written" checks. */
const allStorages: [string, () => StorageKind][] = [
  ['a directory (--storage)', () => directoryStorage()],
  ...storageKinds,
];

describe('backup errors: one clear line, exit code 1, nothing written', () => {
  const ns = uniqueName('err');

  beforeAll(async () => {
    await create([namespace(ns), configMap(ns, 'c')]);
  });

  describe.each(allStorages)('with %s', (_label, makeStorage) => {
    it('an unreachable API server is named, with the context to check', async () => {
      const storage = makeStorage();
      const r = await storage.cli(['backup', 'nope', '-n', ns], {
        KUBECONFIG: await unreachableKubeconfig(),
      });
      expectCleanError(
        r,
        /^error: cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/,
      );
      expect(r.stderr).toContain('context "');
      expect(await storage.allKeys()).toEqual([]);
    });

    it.each([
      ['uppercase letters', 'Nightly'],
      ['an underscore', 'nightly_1'],
      ['a dot', 'nightly.1'],
      ['more than 63 characters', 'a'.repeat(64)],
      ['a trailing dash', 'nightly-'],
    ])('an invalid name (%s) is refused before anything is written', async (_why, name) => {
      const storage = makeStorage();
      const r = await storage.cli(['backup', name, '-n', ns]);
      expectCleanError(
        r,
        new RegExp(`^error: invalid snapshot name "${name.replace('.', '\\.')}"`),
      );
      expect(await storage.allKeys()).toEqual([]);
    });

    it.each([
      ['an unknown flag', ['--frobnicate']],
      ['a misspelled flag', ['--include-resource', 'configmaps']],
    ])('%s is a usage error and no backup runs', async (_why, flags) => {
      const storage = makeStorage();
      const r = await storage.cli(['backup', uniqueName('flag'), '-n', ns, ...flags]);
      expectCleanError(r, /^error: Unknown arguments?: (frobnicate|include-resource)\b/);
      expect(r.stderr).toContain('kubectl snapshot --help');
      expect(await storage.allKeys()).toEqual([]);
    });
  });

  it('the default directory is not even created when the API server is unreachable', async () => {
    const home = tempDir('ks-xdg-');
    const r = await cli(['backup', 'nope', '-n', ns], {
      KUBECONFIG: await unreachableKubeconfig(),
      XDG_DATA_HOME: join(home, 'data'),
      XDG_CONFIG_HOME: join(home, 'config'),
    });
    expect(r.code).toBe(1);
    expect(readdirSync(home)).toEqual([]);
  });

  it('an unreachable MinIO endpoint is named', async () => {
    const port = await freePort();
    const prefix = uniqueName('unreach');
    const r = await cli([
      'backup',
      'nope',
      '-n',
      ns,
      '--storage',
      `s3://${cluster().s3.bucket}/${prefix}?endpoint=http://127.0.0.1:${port}&region=us-east-1&pathStyle=true`,
    ]);
    expectCleanError(
      r,
      new RegExp(
        `^error: cannot reach the S3 endpoint http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)$`,
      ),
    );
  });

  it.each([
    [
      'a wrong secret key',
      { AWS_SECRET_ACCESS_KEY: 'not-the-secret' },
      /SignatureDoesNotMatch|AccessDenied/,
    ],
    [
      'an unknown access key',
      { AWS_ACCESS_KEY_ID: 'nobody', AWS_SECRET_ACCESS_KEY: 'x'.repeat(20) },
      /InvalidAccessKeyId|AccessDenied/,
    ],
  ])('%s is reported as refused credentials, and nothing is stored', async (_why, env, code) => {
    const storage = minioStorage();
    const r = await storage.cli(['backup', 'nope', '-n', ns], env);
    expectCleanError(
      r,
      /^error: the S3 server at http:\/\/127\.0\.0\.1:\d+ refused the credentials for bucket "snapshots"/,
    );
    expect(r.stderr).toMatch(code);
    expect(r.stderr).not.toContain('not-the-secret');
    expect(await storage.allKeys()).toEqual([]);
  });

  it('a missing bucket is named, and not created', async () => {
    const bucket = uniqueName('missing');
    const url = `s3://${bucket}/p?endpoint=${encodeURIComponent(cluster().s3.endpoint)}&region=us-east-1&pathStyle=true`;
    const r = await cli(['backup', 'nope', '-n', ns, '--storage', url]);
    expectCleanError(r, new RegExp(`^error: the S3 bucket "${bucket}" does not exist at http://`));
    expect(await minio().bucketExists(bucket)).toBe(false);
  });
});

// An interrupted upload cannot be produced reliably by killing the CLI from the test (the
// backup may finish first, or die before it uploads anything). Instead the real pipeline
// (runBackup, as the CLI calls it) runs in-process against the real cluster and the real
// directory / MinIO store, wrapped so that the failure happens at an exact point:
//  1. the archive upload breaks after a fixed number of bytes (a dropped connection, a full
//     disk): the backup fails promptly and removes what it wrote;
//  2. the process "dies" right before snapshot.json is written: from then on every storage
//     call fails, so no cleanup runs and the archive, log and lock stay behind, as after
//     kill -9.
// In both cases the CLI then runs as a separate process: nothing shows up in `list`, and
// `restore`, `describe` and `verify` refuse the name.

const selection = (ns: string): Selection => ({
  namespaces: [ns],
  allNamespaces: false,
  excludeNamespaces: [],
  includeResources: [],
  excludeResources: [],
  includeClusterResources: 'auto',
});

/** Delegates to `inner`, except that the archive's body breaks after `afterBytes`. */
function breakingArchiveUpload(
  inner: ObjectStore,
  afterBytes: number,
  seen: { bytes: number },
): ObjectStore {
  return {
    url: inner.url,
    put: (key, body) => {
      if (Buffer.isBuffer(body) || !key.endsWith('/resources.tar.gz')) return inner.put(key, body);
      const breaking = Readable.from(
        (async function* () {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            seen.bytes += chunk.length;
            if (seen.bytes > afterBytes) throw new Error('injected: connection lost mid-upload');
            yield chunk;
          }
        })(),
      );
      return inner.put(key, breaking);
    },
    createExclusive: (k, b) => inner.createExclusive(k, b),
    get: (k) => inner.get(k),
    head: (k) => inner.head(k),
    list: (p) => inner.list(p),
    delete: (k) => inner.delete(k),
  };
}

/** Delegates to `inner` until snapshot.json is due; then it and every later call fail. */
function dyingBeforeManifest(inner: ObjectStore): ObjectStore {
  let dead = false;
  /** Runs `fn` unless the process is "gone". */
  const live = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (dead) throw new Error('injected: the process is gone');
    return fn();
  };
  return {
    url: inner.url,
    put: (k, b) => live(() => inner.put(k, b)),
    createExclusive: (k, b) =>
      live(async () => {
        if (k.endsWith('/snapshot.json')) dead = true;
        return live(() => inner.createExclusive(k, b));
      }),
    get: (k) => live(() => inner.get(k)),
    head: (k) => live(() => inner.head(k)),
    list: (p) =>
      (async function* () {
        if (dead) throw new Error('injected: the process is gone');
        yield* inner.list(p);
      })(),
    delete: (k) => live(() => inner.delete(k)),
  };
}

/** What a user can do with a snapshot name that has no snapshot.json. */
async function expectInvisible(storage: StorageKind, name: string): Promise<void> {
  const list = await storage.cli(['list', '-o', 'json']);
  expect(list.code, list.stderr).toBe(0);
  expect(JSON.parse(list.stdout)).toEqual([]);
  const table = await storage.cli(['list']);
  expect(table.stdout).toBe('');
  expect(table.stderr).toMatch(/^No snapshots in /);
  for (const cmd of [
    ['restore', name],
    ['restore', name, '--dry-run=client'],
    ['describe', name],
    ['verify', name],
  ]) {
    const r = await storage.cli(cmd);
    expectCleanError(r, new RegExp(`^error: snapshot "${name}" in .* not found$`));
  }
}

describe.each(storageKinds)('an interrupted backup to %s', (_label, makeStorage) => {
  const ns = uniqueName('intr');
  let client: KubeClient;

  beforeAll(async () => {
    client = KubeClient.connect({ kubeconfig: cluster().kubeconfig });
    await create([namespace(ns)]);
    // ~8 MiB of incompressible data: the archive is bigger than one 5 MiB S3 part, so the
    // break below happens inside a multipart upload that must be aborted.
    const api = objects();
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api.create(configMap(ns, `big-${i}`, { blob: randomBytes(500_000).toString('base64') })),
      ),
    );
  });

  it('fails promptly when the archive upload breaks, and leaves no key behind', async () => {
    const storage = makeStorage();
    const name = uniqueName('broken');
    const seen = { bytes: 0 };
    const store = breakingArchiveUpload(
      await storage.store({ partSize: 5 * MiB }),
      5.5 * MiB,
      seen,
    );
    await expect(
      runBackup(
        { client, snapshots: new SnapshotRepository(store), toolVersion: 'test' },
        { name, selection: selection(ns) },
      ),
    ).rejects.toThrow(/injected: connection lost mid-upload/);
    // More than one part's worth went out before the break (on S3: a multipart upload).
    expect(seen.bytes).toBeGreaterThan(5 * MiB);
    expect(await storage.allKeys([name])).toEqual([]);
    await expectInvisible(storage, name);
    // The name is free again.
    const again = await storage.cli(['backup', name, '-n', ns]);
    expect(again.code, again.stderr).toBe(0);
  });

  it('leaves nothing that list shows or restore accepts when it dies before snapshot.json', async () => {
    const storage = makeStorage();
    const name = uniqueName('killed');
    const store = dyingBeforeManifest(await storage.store());
    await expect(
      runBackup(
        { client, snapshots: new SnapshotRepository(store), toolVersion: 'test' },
        { name, selection: selection(ns) },
      ),
    ).rejects.toThrow(/injected: the process is gone/);
    // What a killed process leaves: the lock, the whole archive and the log, but no snapshot.json.
    expect(await storage.allKeys()).toEqual([
      `snapshots/${name}/.lock`,
      `snapshots/${name}/log.jsonl.gz`,
      `snapshots/${name}/resources.tar.gz`,
    ]);
    await expectInvisible(storage, name);
    // This backup ran inside the test's own process, which lives on: make its lock name a
    // process that has ended, as a killed backup's does.
    const direct = await storage.store(); // the store above plays dead
    const lockKey = `snapshots/${name}/.lock`;
    const lock = JSON.parse((await getBuffer(direct, lockKey)).toString('utf8'));
    const ended = spawnSync('true').pid;
    await direct.put(lockKey, Buffer.from(JSON.stringify({ ...lock, pid: ended })));

    // The name stays claimed until the leftovers are deleted, and the error says how.
    const retry = await storage.cli(['backup', name, '-n', ns]);
    expectCleanError(retry, new RegExp(`^error: snapshot "${name}" already exists$`));
    expect(retry.stderr).toContain(`kubectl snapshot delete ${name}`);
    const del = await storage.cli(['delete', name]);
    expect(del.code, del.stderr).toBe(0);
    expect(await storage.allKeys([name])).toEqual([]);
    const again = await storage.cli(['backup', name, '-n', ns]);
    expect(again.code, again.stderr).toBe(0);
  });
});
