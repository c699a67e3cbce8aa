// Faults and limits end to end (issue 8): MinIO dying in the middle of an upload, the API
// server restarting in the middle of a backup, API Priority and Fairness answering 429, objects
// and names at Kubernetes' size limits, and an archive with an unsafe entry.
//
// This file stops and restarts processes, so it starts its OWN control plane and MinIO
// (test/cluster/harness.ts) instead of using the shared one of the e2e run: stopping the shared
// MinIO or API server would break every other test file. Every CLI call here therefore passes
// this cluster's KUBECONFIG and S3 credentials explicitly.
//
// Timing: the machine has two cores shared with other test runs, so nothing here asserts on a
// duration. Where a fault must hit a process "in the middle" of its work, the test waits for
// an observable sign that the work is under way, then freezes the CLI with SIGSTOP, injects the
// fault, and lets the CLI continue with SIGCONT. Freezing makes the interleaving certain: the
// CLI cannot finish (or even notice) between "the test saw it working" and "the fault is in".
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type * as k8s from '@kubernetes/client-node';
import { Client as MinioClient } from 'minio';
import { pack as tarPack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArchive } from '../../src/archive/reader.js';
import { mapLimit } from '../../src/core/pool.js';
import type { SnapshotManifest } from '../../src/core/types.js';
import { type Cluster, startCluster } from '../cluster/harness.js';
import {
  configMap,
  fewSeatsPriorityLevel,
  flowSchemaFor,
  namespace,
  type Obj,
  secret,
  service,
  serviceAccount,
} from './fixtures.js';
import { type CliResult, kubeConfig, objects, tempDir, uniqueName, until } from './helpers.js';
import { expectCleanError, filesBelow } from './storage-kinds.js';

const root = join(import.meta.dirname, '..', '..');
let c: Cluster;
/** A fresh config dir so no named default location of the developer's interferes. */
const configHome = join(tempDir('ks-faults-cfg-'), 'config');

beforeAll(async () => {
  c = await startCluster();
}, 300_000);

afterAll(async () => {
  await c?.stop();
});

/** The CLI's environment for this file's cluster and MinIO. */
function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KUBECONFIG: c.kubeconfig,
    AWS_ACCESS_KEY_ID: c.s3.accessKey,
    AWS_SECRET_ACCESS_KEY: c.s3.secretKey,
    XDG_CONFIG_HOME: configHome,
    ...extra,
  };
}

interface RunningCli {
  pid: number;
  result: Promise<CliResult>;
  /** True once the process has exited. */
  exited(): boolean;
}

/** Starts the built CLI as a separate process, exactly as a user would run it. */
function spawnCli(args: string[], extra: NodeJS.ProcessEnv = {}): RunningCli {
  let done = false;
  let pid = 0;
  const result = new Promise<CliResult>((resolve) => {
    const child = execFile(
      join(root, 'bin', 'kubectl-snapshot'),
      args,
      { env: cliEnv(extra), maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        done = true;
        const code = err ? ((err as { code?: unknown }).code as number) : 0;
        resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      },
    );
    pid = child.pid as number;
  });
  return { pid, result, exited: () => done };
}

const runCli = (args: string[], extra: NodeJS.ProcessEnv = {}) => spawnCli(args, extra).result;

/** `s3://…` for a unique prefix in this file's MinIO. */
function s3Location(prefix: string): string {
  return `s3://${c.s3.bucket}/${prefix}?endpoint=${encodeURIComponent(c.s3.endpoint)}&region=us-east-1&pathStyle=true`;
}

function minioClient(): MinioClient {
  const u = new URL(c.s3.endpoint);
  return new MinioClient({
    endPoint: u.hostname,
    port: Number(u.port),
    useSSL: false,
    accessKey: c.s3.accessKey,
    secretKey: c.s3.secretKey,
    region: 'us-east-1',
  });
}

/**
 * Every object below `prefix` in MinIO, plus the incomplete multipart uploads of the archives
 * of `snapshots`. MinIO lists incomplete uploads only for an exact object name, not for a
 * prefix (a listing by prefix answers empty), so the archive keys are asked for one by one.
 */
async function minioKeys(prefix: string, snapshots: string[]): Promise<string[]> {
  const mc = minioClient();
  const keys: string[] = [];
  for await (const o of mc.listObjectsV2(c.s3.bucket, `${prefix}/`, true) as AsyncIterable<{
    name?: string;
  }>) {
    if (o.name) keys.push(o.name.slice(prefix.length + 1));
  }
  for (const name of snapshots) {
    const key = `${prefix}/snapshots/${name}/resources.tar.gz`;
    for await (const u of mc.listIncompleteUploads(c.s3.bucket, key, true) as AsyncIterable<{
      key: string;
    }>) {
      keys.push(`(incomplete upload) ${u.key.slice(prefix.length + 1)}`);
    }
  }
  return keys.sort();
}

/**
 * Polls `check` until it answers true; fails at once if the CLI exits first (the fault would
 * come too late to test anything) and after `timeoutMs` otherwise.
 */
async function whileRunning(
  what: string,
  cliRun: RunningCli,
  check: () => Promise<boolean>,
  timeoutMs = 240_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cliRun.exited()) {
      const r = await cliRun.result;
      throw new Error(`the CLI exited (code ${r.code}) before ${what}:\n${r.stderr}`);
    }
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Creates objects with this cluster's admin (or the given kubeconfig), `limit` at a time. */
async function createAll(items: Obj[], kubeconfig = c.kubeconfig, limit = 8): Promise<void> {
  const api = objects(kubeconfig);
  await mapLimit(items, limit, (o) => api.create(o));
}

async function readObj(o: Obj): Promise<Obj | undefined> {
  try {
    return (await objects(c.kubeconfig).read(o as never)) as Obj;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** Names of every object of a type in a namespace, as the API lists them now. */
/**
 * Names without what the control plane publishes into every namespace (kube-root-ca.crt, the
 * default ServiceAccount): a restore skips those, and they appear in a new namespace at the
 * controllers' pace.
 */
function ours(names: string[]): string[] {
  return names.filter((n) => n !== 'kube-root-ca.crt' && n !== 'default');
}

async function listNames(apiVersion: string, kind: string, ns?: string): Promise<string[]> {
  const names: string[] = [];
  let cont: string | undefined;
  do {
    const page = await objects(c.kubeconfig).list(
      apiVersion,
      kind,
      ns,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      500,
      cont,
    );
    for (const o of page.items) names.push(o.metadata?.name ?? '');
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return names.sort();
}

/**
 * Checks a snapshot against the cluster as it is now: for every resource type the snapshot
 * recorded, the count equals what the API lists in the namespace (cluster-scoped: the
 * Namespace object itself).
 */
async function expectCountsMatchApi(m: SnapshotManifest, ns: string): Promise<void> {
  expect(m.resources.length).toBeGreaterThan(0);
  for (const r of m.resources) {
    if (r.namespaced) {
      const names = await listNames(r.apiVersion, r.kind, ns);
      expect(r.count, `${r.resource} in ${ns}`).toBe(names.length);
    } else {
      expect(r.resource).toBe('namespaces');
      expect(r.count).toBe(1);
    }
  }
  expect(m.totalObjects).toBe(m.resources.reduce((n, r) => n + r.count, 0));
}

async function describeJson(name: string, storage: string[]): Promise<SnapshotManifest> {
  const r = await runCli(['describe', name, '-o', 'json', ...storage]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as SnapshotManifest;
}

// ─── A namespace big enough that a backup takes a while ──────────────────────────────────────

/**
 * ~48 KB of random base64 per ConfigMap: gzip cannot shrink it much, so 2,000 of them make an
 * archive of ~70 MiB, five 16 MiB S3 parts, and a backup that is still listing and uploading
 * well after its first part has gone out.
 */
const BIG_COUNT = 2000;

describe('faults in the middle of a backup', () => {
  const bigNs = uniqueName('big');

  beforeAll(async () => {
    await createAll([namespace(bigNs)]);
    const items = Array.from({ length: BIG_COUNT }, (_, i) =>
      configMap(bigNs, `blob-${String(i).padStart(5, '0')}`, {
        data: randomBytes(36_000).toString('base64'),
      }),
    );
    await createAll(items, c.kubeconfig, 16);
  }, 600_000);

  it('fails with one clear error when MinIO stops in the middle of an upload, leaves nothing that `delete` cannot clean, and a rerun with the same name succeeds', async () => {
    const prefix = uniqueName('minio-stop');
    const storage = ['--storage', s3Location(prefix)];
    const name = 'mid-upload';
    const backup = spawnCli(['backup', name, '-n', bigNs, ...storage]);

    // The upload has begun once MinIO holds an incomplete multipart upload for the archive:
    // the store starts one only after the first 16 MiB part is read, and completes it only
    // after the last byte, ~50 MiB of listing later. The CLI is frozen the moment it is seen,
    // so it is certainly still in the middle of that upload when MinIO goes away.
    await whileRunning('the multipart upload of the archive started', backup, async () =>
      (await minioKeys(prefix, [name])).includes(
        '(incomplete upload) snapshots/mid-upload/resources.tar.gz',
      ),
    );
    process.kill(backup.pid, 'SIGSTOP');
    try {
      // Frozen mid-upload (not a few milliseconds too late, after it completed).
      expect(await minioKeys(prefix, [name])).toEqual([
        '(incomplete upload) snapshots/mid-upload/resources.tar.gz',
        'snapshots/mid-upload/.lock',
      ]);
      await c.stopMinio();
    } finally {
      process.kill(backup.pid, 'SIGCONT');
    }

    // After its retries the backup gives up with one line naming the endpoint, and exit code 1.
    const r = await backup.result;
    expectCleanError(
      r,
      new RegExp(
        `^error: cannot reach the S3 endpoint ${c.s3.endpoint.replace(/\./g, '\\.')} \\(E[A-Z]+\\)$`,
      ),
    );

    // It could not clean up either (MinIO was gone), and says what to run once MinIO is back.
    expect(r.stderr).toContain(
      'the failed backup could not remove what it wrote: once the storage is reachable again, run kubectl snapshot delete mid-upload',
    );

    await c.startMinio();
    // Nothing new is listed, and no complete archive or snapshot.json exists.
    const list = await runCli(['list', '-o', 'json', ...storage]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
    const left = await minioKeys(prefix, [name]);
    expect(left).not.toContain('snapshots/mid-upload/snapshot.json');
    expect(left).not.toContain('snapshots/mid-upload/resources.tar.gz');
    // MinIO was gone, so the backup could not remove its name claim: the name is still taken…
    expect(left).toContain('snapshots/mid-upload/.lock');
    const again = await runCli(['backup', name, '-n', bigNs, ...storage]);
    expectCleanError(again, /^error: snapshot "mid-upload" already exists/);
    expect(again.stderr).toContain(`kubectl snapshot delete ${name}`);

    // …until `delete` removes every leftover, the incomplete upload included.
    const del = await runCli(['delete', name, ...storage]);
    expect(del.code, del.stderr).toBe(0);
    expect(await minioKeys(prefix, [name])).toEqual([]);

    const rerun = await runCli(['backup', name, '-n', bigNs, ...storage]);
    expect(rerun.code, rerun.stderr).toBe(0);
    const m = await describeJson(name, storage);
    await expectCountsMatchApi(m, bigNs);
    const verify = await runCli(['verify', name, ...storage]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('retries through a kube-apiserver restart in the middle of a backup and completes with every object', async () => {
    const dir = tempDir('ks-apiserver-restart-');
    const storage = ['--storage', dir];
    const name = 'api-restart';
    const backup = spawnCli(['backup', name, '-n', bigNs, ...storage]);

    // Listing has started once the archive being written (a temporary file until it is
    // complete) holds a few MiB: that is about a hundred ConfigMaps out of 2,000.
    const archiveTemp = () =>
      filesBelow(dir).find((f) =>
        /^snapshots\/api-restart\/\.tmp-[0-9a-f]+-resources\.tar\.gz$/.test(f),
      );
    await whileRunning('the backup started listing', backup, async () => {
      const f = archiveTemp();
      return f !== undefined && statSync(join(dir, f)).size > 4 * 1024 * 1024;
    });
    process.kill(backup.pid, 'SIGSTOP');
    try {
      expect(filesBelow(dir)).not.toContain('snapshots/api-restart/snapshot.json');
      await c.stopApiserver();
    } finally {
      process.kill(backup.pid, 'SIGCONT');
    }
    // The CLI now meets a dead API server (refused connections, broken lists). The server
    // stays down for 10 s, then comes back on the same port with the same etcd (starting it
    // takes a few more seconds): longer than six attempts' back-off (at most ~6 s), so this
    // fails unless the client keeps retrying lost connections to a server that answered before.
    await new Promise((r) => setTimeout(r, 10_000));
    await c.startApiserver();

    const r = await backup.result;
    expect(r.code, r.stderr).toBe(0);
    const m = await describeJson(name, storage);
    expect(m.resources.find((x) => x.resource === 'configmaps')?.count).toBeGreaterThanOrEqual(
      BIG_COUNT,
    );
    await expectCountsMatchApi(m, bigNs);
    const verify = await runCli(['verify', name, ...storage]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    rmSync(dir, { recursive: true, force: true }); // ~70 MiB
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s in the middle of an upload to MinIO aborts it: exit %i, one line, nothing left, the name free',
    async (sig, code) => {
      const prefix = uniqueName(`signal-${sig.toLowerCase()}`);
      const storage = ['--storage', s3Location(prefix)];
      const name = 'stopped';
      const backup = spawnCli(['backup', name, '-n', bigNs, ...storage]);
      await whileRunning('the multipart upload of the archive started', backup, async () =>
        (await minioKeys(prefix, [name])).includes(
          `(incomplete upload) snapshots/${name}/resources.tar.gz`,
        ),
      );
      process.kill(backup.pid, sig);
      const r = await backup.result;
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toBe(
        `${sig}: stopping, cleaning up (again to quit at once)\nerror: interrupted by ${sig}\n`,
      );
      expect(await minioKeys(prefix, [name])).toEqual([]);
      const list = await runCli(['list', '-o', 'json', ...storage]);
      expect(JSON.parse(list.stdout)).toEqual([]);
    },
  );

  it('SIGTERM in the middle of a backup to a directory removes the temporary archive and the lock', async () => {
    const dir = tempDir('ks-sigterm-');
    const backup = spawnCli(['backup', 'stopped', '-n', bigNs, '--storage', dir]);
    await whileRunning('the archive is being written', backup, async () =>
      filesBelow(dir).some((f) => /\.tmp-[0-9a-f]+-resources\.tar\.gz$/.test(f)),
    );
    process.kill(backup.pid, 'SIGTERM');
    const r = await backup.result;
    expect(r.code, r.stderr).toBe(143);
    expect(filesBelow(dir)).toEqual([]);
  });

  it('SIGKILL leaves files that list --all shows and prune removes once they are a day old', async () => {
    const dir = tempDir('ks-sigkill-');
    const storage = ['--storage', dir];
    const backup = spawnCli(['backup', 'killed', '-n', bigNs, ...storage]);
    await whileRunning('the archive is being written', backup, async () =>
      filesBelow(dir).some((f) => /\.tmp-[0-9a-f]+-resources\.tar\.gz$/.test(f)),
    );
    process.kill(backup.pid, 'SIGKILL');
    await backup.result;
    expect(JSON.parse((await runCli(['list', '-o', 'json', ...storage])).stdout)).toEqual([]);
    const all = await runCli(['list', '--all', ...storage]);
    expect(all.stdout).toMatch(/^killed\s+Incomplete\s/m);

    // Its process is gone, but the leftovers are fresh: prune leaves them for now.
    const early = await runCli(['prune', '--keep-last', '5', ...storage]);
    expect(early.code, early.stderr).toBe(0);
    expect(filesBelow(dir)).toContain('snapshots/killed/.lock');

    // A day later (the lock says so), prune removes them, temporary file included.
    const lockFile = join(dir, 'snapshots', 'killed', '.lock');
    const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
    const dayAgo = new Date(Date.now() - 25 * 3_600_000).toISOString();
    writeFileSync(lockFile, JSON.stringify({ ...lock, startedAt: dayAgo }));
    const late = await runCli(['prune', '--keep-last', '5', ...storage]);
    expect(late.code, late.stderr).toBe(0);
    expect(late.stdout).toContain(
      'removed the leftovers of backups that died over a day ago: killed',
    );
    expect(filesBelow(dir)).toEqual([]);
  });

  it('SIGINT in the middle of a restore stops its creates: exit 130, and running it again creates the rest', async () => {
    const dir = tempDir('ks-sigint-restore-');
    const storage = ['--storage', dir];
    const b = await runCli(['backup', 'to-restore', '-n', bigNs, ...storage]);
    expect(b.code, b.stderr).toBe(0);
    const copy = `${bigNs}-stop`;
    const args = ['restore', 'to-restore', '--namespace-mapping', `${bigNs}=${copy}`, ...storage];
    const restore = spawnCli(args);
    await whileRunning(
      'the restore created some ConfigMaps',
      restore,
      async () => (await listNames('v1', 'ConfigMap', copy).catch(() => [])).length > 100,
    );
    process.kill(restore.pid, 'SIGINT');
    const r = await restore.result;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toBe(
      'SIGINT: stopping, cleaning up (again to quit at once)\nerror: interrupted by SIGINT\n  what was created stays; the same restore again creates the rest (it skips what exists)\n',
    );
    // The backed-up ConfigMaps, not kube-root-ca.crt, which the controller publishes on its own time.
    const blobs = async (ns: string) =>
      (await listNames('v1', 'ConfigMap', ns)).filter((n) => n.startsWith('blob-'));
    expect((await blobs(copy)).length).toBeLessThan((await blobs(bigNs)).length);

    const again = await runCli(args);
    expect(again.code, again.stderr).toBe(0);
    expect(await blobs(copy)).toEqual(await blobs(bigNs));
  });

  it('refuses to delete a snapshot a running backup is writing, so that backup completes intact', async () => {
    const prefix = uniqueName('race');
    const storage = ['--storage', s3Location(prefix)];
    const backup = spawnCli(['backup', 'race', '-n', bigNs, ...storage]);
    await whileRunning('the backup holds its lock', backup, async () =>
      (await minioKeys(prefix, [])).includes('snapshots/race/.lock'),
    );
    const del = await runCli(['delete', 'race', ...storage]);
    expectCleanError(
      del,
      new RegExp(
        `^error: snapshot "race" is being written by a backup started at \\S+ on \\S+ \\(pid ${backup.pid}\\)$`,
      ),
    );
    const done = await backup.result;
    expect(done.code, done.stderr).toBe(0);
    const verify = await runCli(['verify', 'race', ...storage]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

// ─── API Priority and Fairness ───────────────────────────────────────────────────────────────

interface LoadResult {
  statuses: Map<number, number>;
  retryAfter: Set<string>;
  priorityLevelUids: Set<string>;
}

/**
 * Sends `n` GETs of `path` at once as the user of `kubeconfig`, each on its own connection and
 * without any retry, and tallies the answers.
 */
async function burst(kubeconfig: string, path: string, n: number): Promise<LoadResult> {
  const kc = kubeConfig(kubeconfig);
  const cluster = kc.getCurrentCluster() as k8s.Cluster;
  const user = kc.getCurrentUser() as k8s.User;
  const b64 = (s?: string) => Buffer.from(s ?? '', 'base64');
  const agent = new HttpsAgent({ keepAlive: false, maxSockets: n });
  const out: LoadResult = {
    statuses: new Map(),
    retryAfter: new Set(),
    priorityLevelUids: new Set(),
  };
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve) => {
          const req = httpsRequest(
            new URL(path, cluster.server),
            { agent, ca: b64(cluster.caData), cert: b64(user.certData), key: b64(user.keyData) },
            (res) => {
              res.resume();
              res.on('end', () => {
                const code = res.statusCode ?? 0;
                out.statuses.set(code, (out.statuses.get(code) ?? 0) + 1);
                const ra = res.headers['retry-after'];
                if (typeof ra === 'string') out.retryAfter.add(ra);
                const pl = res.headers['x-kubernetes-pf-prioritylevel-uid'];
                if (typeof pl === 'string') out.priorityLevelUids.add(pl);
                resolve();
              });
            },
          );
          req.on('error', () => {
            out.statuses.set(0, (out.statuses.get(0) ?? 0) + 1);
            resolve();
          });
          req.end();
        }),
    ),
  );
  agent.destroy();
  return out;
}

/** Requests APF has rejected (429) so far for one priority level, from the server's metrics. */
async function rejectedSoFar(priorityLevel: string): Promise<number> {
  const kc = kubeConfig(c.kubeconfig);
  const cluster = kc.getCurrentCluster() as k8s.Cluster;
  const user = kc.getCurrentUser() as k8s.User;
  const b64 = (s?: string) => Buffer.from(s ?? '', 'base64');
  const text = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(
      new URL('/metrics', cluster.server),
      { ca: b64(cluster.caData), cert: b64(user.certData), key: b64(user.keyData) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
  let n = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('apiserver_flowcontrol_rejected_requests_total{') &&
      line.includes(`priority_level="${priorityLevel}"`)
    )
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

describe('API Priority and Fairness rejecting requests with 429', () => {
  const user = 'apf-limited-user';
  const level = 'kubectl-snapshot-e2e-tiny';
  const ns = uniqueName('apf');
  const copy = `${ns}-copy`;
  let kubeconfig: string;
  let levelUid: string;

  beforeAll(async () => {
    kubeconfig = c.userKubeconfig(user);
    // Not in system:masters (whose requests APF exempts): a plain user bound to cluster-admin.
    await createAll([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `${user}-admin` },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'cluster-admin',
        },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      },
      // Requests beyond its ~3 seats rejected at once (429) instead of queued.
      fewSeatsPriorityLevel(level),
      // Matched before every default FlowSchema except `exempt` and `probes`.
      flowSchemaFor(level, level, { kind: 'User', user: { name: user } }),
    ]);
    levelUid = (
      (await readObj({
        apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
        kind: 'PriorityLevelConfiguration',
        metadata: { name: level },
      })) as Obj
    ).metadata?.uid as string;

    await createAll([namespace(ns)]);
    // The controllers publish kube-root-ca.crt and the default ServiceAccount into the new
    // namespace on their own time: wait, or a backup may list before and the count after.
    await until(`kube-root-ca.crt and the default ServiceAccount in ${ns}`, async () => {
      const cms = await listNames('v1', 'ConfigMap', ns);
      const sas = await listNames('v1', 'ServiceAccount', ns);
      return cms.includes('kube-root-ca.crt') && sas.includes('default');
    });
    await createAll(
      [
        ...Array.from({ length: 200 }, (_, i) =>
          configMap(ns, `cm-${i}`, { index: String(i), payload: 'x'.repeat(2000) }),
        ),
        ...Array.from({ length: 30 }, (_, i) => secret(ns, `secret-${i}`, { token: `t-${i}` })),
        ...Array.from({ length: 20 }, (_, i) => serviceAccount(ns, `sa-${i}`)),
        ...Array.from({ length: 10 }, (_, i) => service(ns, `svc-${i}`)),
      ],
      c.kubeconfig,
      16,
    );
  }, 300_000);

  it('makes the API server answer 429 to the test user under parallel load', async () => {
    // APF picks up new FlowSchemas within a moment: until then the user's requests are
    // classified elsewhere (the priority level header says where).
    let seen: LoadResult | undefined;
    await until(
      'a 429 from the tiny priority level',
      async () => {
        seen = await burst(kubeconfig, `/api/v1/namespaces/${ns}/configmaps`, 60);
        return seen.priorityLevelUids.has(levelUid) && (seen.statuses.get(429) ?? 0) > 0;
      },
      120_000,
      1000,
    );
    expect(seen?.statuses.get(429)).toBeGreaterThan(0);
    expect(seen?.statuses.get(200)).toBeGreaterThan(0);
    // …and says when to come back, which the CLI's client honours.
    expect(seen?.retryAfter.size).toBeGreaterThan(0);
  });

  it('still backs up and restores every object as that user: the client retries 429s honouring Retry-After', async () => {
    const dir = tempDir('ks-apf-');
    const storage = ['--storage', dir];
    const before = await rejectedSoFar(level);
    const b = await runCli(['backup', 'under-apf', '-n', ns, ...storage], {
      KUBECONFIG: kubeconfig,
    });
    expect(b.code, b.stderr).toBe(0);
    const m = await describeJson('under-apf', storage);
    await expectCountsMatchApi(m, ns);

    const r = await runCli(
      ['restore', 'under-apf', '--namespace-mapping', `${ns}=${copy}`, ...storage],
      { KUBECONFIG: kubeconfig },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const afterRestore = await rejectedSoFar(level);
    for (const [apiVersion, kind] of [
      ['v1', 'ConfigMap'],
      ['v1', 'Secret'],
      ['v1', 'ServiceAccount'],
      ['v1', 'Service'],
    ] as const) {
      expect(ours(await listNames(apiVersion, kind, copy)), kind).toEqual(
        ours(await listNames(apiVersion, kind, ns)),
      );
    }
    // The server did reject requests of this user during the backup and restore (the restore's
    // parallel creates always meet some; the backup's parallel lists usually do too), and both
    // got through.
    expect(afterRestore).toBeGreaterThan(before);
  });
});

// ─── Objects and names at Kubernetes' limits ─────────────────────────────────────────────────

/** `prefix` padded with letters to exactly `n` characters (a valid DNS-1123 label). */
const padded = (prefix: string, n: number) => `${prefix}-${'z'.repeat(n)}`.slice(0, n);
/** A DNS-1123 subdomain of exactly 253 characters: four labels of up to 63. */
const subdomain253 = (a: string, b: string, c3: string, d: string) =>
  `${a.repeat(63)}.${b.repeat(63)}.${c3.repeat(63)}.${d.repeat(61)}`;

/** Equal as JSON, without handing megabytes to the assertion library's diff. */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

describe('objects and names at the limits round-trip', () => {
  const ns = padded(uniqueName('lim'), 63);
  const snapshot = padded(uniqueName('snap'), 63);
  const longName = subdomain253('a', 'b', 'c', 'd');
  // A label key at its limit: a 253-character prefix and a 63-character name.
  const labelKey = `${subdomain253('p', 'q', 'r', 's')}/${'n'.repeat(63)}`;
  const labelValue = `v-${'x'.repeat(61)}`;
  const labels = { [labelKey]: labelValue, short: `w.${'y'.repeat(60)}9` };
  // The API server caps a ConfigMap's data at 1 MiB of values (keys are not counted), its
  // annotations at 256 KiB, and etcd a stored object at 1.5 MiB. A ConfigMap of ~1.4 MB as
  // served therefore has 1 MB of data, ~200 KB of annotations and ~600 long keys (each also
  // listed in managedFields).
  const big = configMap(
    ns,
    'big',
    {
      blob: randomBytes(750_000).toString('base64'),
      ...Object.fromEntries(
        Array.from({ length: 600 }, (_, i) => [
          `key-${String(i).padStart(4, '0')}-${'k'.repeat(190)}`,
          String(i),
        ]),
      ),
    },
    labels,
  );
  (big.metadata as k8s.V1ObjectMeta).annotations = {
    'example.com/blob': randomBytes(150_000).toString('base64'),
  };
  const long = configMap(ns, longName, { small: 'value' }, labels);
  const unlabelled = configMap(ns, 'not-selected');

  beforeAll(async () => {
    await createAll([namespace(ns, labels), big, long, unlabelled]);
    const served = await readObj(big);
    expect(JSON.stringify(served).length).toBeGreaterThan(1_400_000);
  }, 300_000);

  const kinds: [string, () => string[]][] = [
    ['a directory', () => ['--storage', tempDir('ks-limits-')]],
    ['MinIO', () => ['--storage', s3Location(uniqueName('limits'))]],
  ];

  it.each(kinds)(
    'a 1.4 MB ConfigMap, a 253-character object name, a 63-character namespace, snapshot name and label values survive backup and restore through %s',
    async (label, storageArgs) => {
      const storage = storageArgs();
      const target = padded(uniqueName(label === 'MinIO' ? 'to-s3' : 'to-dir'), 63);
      const b = await runCli([
        'backup',
        snapshot,
        '-n',
        ns,
        '-l',
        `${labelKey}=${labelValue}`,
        '--labels',
        `origin=${labelValue}`,
        ...storage,
      ]);
      expect(b.code, b.stderr).toBe(0);
      const m = await describeJson(snapshot, storage);
      expect(m.name).toBe(snapshot);
      expect(m.labels).toEqual({ origin: labelValue });
      expect(m.resources.find((r) => r.resource === 'configmaps')?.count).toBe(2);
      const list = await runCli(['list', '-o', 'json', ...storage]);
      expect((JSON.parse(list.stdout) as SnapshotManifest[]).map((x) => x.name)).toEqual([
        snapshot,
      ]);
      const v = await runCli(['verify', snapshot, ...storage]);
      expect(v.code, v.stdout + v.stderr).toBe(0);

      const r = await runCli([
        'restore',
        snapshot,
        '--namespace-mapping',
        `${ns}=${target}`,
        ...storage,
      ]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(ours(await listNames('v1', 'ConfigMap', target))).toEqual(['big', longName].sort());
      for (const original of [big, long]) {
        const name = (original.metadata as k8s.V1ObjectMeta).name as string;
        const restored = (await readObj(configMap(target, name))) as Obj;
        expect(sameJson(restored.data, original.data), `data of ${name}`).toBe(true);
        expect(restored.metadata?.labels).toEqual(labels);
        expect(
          sameJson(
            restored.metadata?.annotations,
            (original.metadata as k8s.V1ObjectMeta).annotations,
          ),
          `annotations of ${name}`,
        ).toBe(true);
      }
      const restoredNs = (await readObj(namespace(target))) as Obj;
      expect(restoredNs.metadata?.labels).toMatchObject(labels);
    },
  );
});

// ─── An archive with an unsafe entry ─────────────────────────────────────────────────────────

describe('an archive with an unsafe entry whose checksum matches snapshot.json', () => {
  const ns = uniqueName('unsafe');
  const dir = tempDir('ks-unsafe-');
  const storage = ['--storage', dir];
  const file = (...parts: string[]) => join(dir, 'snapshots', ...parts);
  let entries: { name: string; data: Buffer }[];

  beforeAll(async () => {
    await createAll([namespace(ns), configMap(ns, 'cfg', { a: 'b' })]);
    const b = await runCli(['backup', 'genuine', '-n', ns, ...storage]);
    expect(b.code, b.stderr).toBe(0);
    entries = [];
    await readArchive(Readable.from([readFileSync(file('genuine', 'resources.tar.gz'))]), (e) => {
      entries.push(e);
    });
    // The genuine archive holds the Namespace object, so a restore that got as far as
    // creating anything would create (the mapped) namespace first.
    expect(entries.map((e) => e.name)).toContain(`resources/namespaces/cluster/${ns}.json`);
  });

  /**
   * Stores snapshot `name`: the genuine archive's entries plus `extra` as the LAST entry, and a
   * snapshot.json whose size and sha256 are those of the new archive, so the checksum cannot
   * give the tampering away: only the entry check can.
   */
  async function plant(
    name: string,
    extra: { header: Parameters<ReturnType<typeof tarPack>['entry']>[0]; data?: string },
  ): Promise<void> {
    const tar = tarPack();
    for (const e of entries) tar.entry({ name: e.name, mode: 0o600 }, e.data);
    tar.entry(extra.header, extra.data ?? '');
    tar.finalize();
    const chunks: Buffer[] = [];
    for await (const d of tar) chunks.push(d as Buffer);
    const archive = gzipSync(Buffer.concat(chunks));
    const manifest = JSON.parse(
      readFileSync(file('genuine', 'snapshot.json'), 'utf8'),
    ) as SnapshotManifest;
    const planted: SnapshotManifest = {
      ...manifest,
      name,
      archive: {
        ...manifest.archive,
        key: `snapshots/${name}/resources.tar.gz`,
        size: archive.length,
        sha256: createHash('sha256').update(archive).digest('hex'),
      },
      log: { key: `snapshots/${name}/log.jsonl.gz` },
    };
    mkdirSync(file(name), { recursive: true });
    writeFileSync(file(name, 'resources.tar.gz'), archive);
    writeFileSync(file(name, 'log.jsonl.gz'), readFileSync(file('genuine', 'log.jsonl.gz')));
    writeFileSync(file(name, 'snapshot.json'), JSON.stringify(planted));
  }

  it.each([
    [
      'a ../ entry name',
      'dotdot',
      { header: { name: '../escape.json' }, data: '{"kind":"ConfigMap"}' },
      /unsafe entry name in archive: "\.\.\/escape\.json"/,
    ],
    [
      'a symlink entry',
      'symlink',
      {
        header: {
          name: `resources/configmaps/namespaces/${ns}/link.json`,
          type: 'symlink' as const,
          linkname: '/etc/passwd',
        },
      },
      /archive entry "resources\/configmaps\/namespaces\/[a-z0-9-]+\/link\.json" is a symlink, not a regular file/,
    ],
  ])(
    'with %s: verify reports it damaged, restore refuses it with exit code 1 and creates nothing',
    async (_label, name, extra, message) => {
      await plant(name, extra);
      const v = await runCli(['verify', name, ...storage]);
      expect(v.code, v.stderr).toBe(1);
      expect(v.stdout).toContain(`snapshot ${name} is DAMAGED`);
      expect(v.stdout).toMatch(message);
      // The checksum matched: nothing but the entry check objected.
      expect(v.stdout).not.toContain('does not match its snapshot.json');

      const target = `${ns}-${name}`;
      const r = await runCli([
        'restore',
        name,
        '--namespace-mapping',
        `${ns}=${target}`,
        ...storage,
      ]);
      expectCleanError(r, message);
      expect(await readObj(namespace(target))).toBeUndefined();
      expect(await listNames('v1', 'ConfigMap', target)).toEqual([]);
    },
  );
});
