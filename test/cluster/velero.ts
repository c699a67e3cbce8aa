// Velero on the test control plane, for the benchmark's comparison (issue 7) and the Velero
// interoperability e2e tests: `velero server` runs out of cluster (a plain child process with
// --kubeconfig) with velero-plugin-for-aws and a BackupStorageLocation on the harness's MinIO.
// No volume snapshots, no node agent. Binaries come from test/cluster/build.sh velero.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubeClient } from '../../src/kube/client.js';
import { freePort, type S3Info } from './harness.js';
import { machineLock } from './machine-lock.js';

const execFileP = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
/** This directory in the sources, whether run from them (vitest) or from build/test/cluster. */
const clusterDir = [here, join(here, '..', '..', '..', 'test', 'cluster')].find((d) =>
  existsSync(join(d, 'build.sh')),
) as string;

export const VELERO_NAMESPACE = 'velero';
const BSL = 'default';
const API = `/apis/velero.io/v1/namespaces/${VELERO_NAMESPACE}`;

function cacheDir(): string {
  return (
    process.env.KUBECTL_SNAPSHOT_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubectl-snapshot')
  );
}

/** build.sh's cache directory for one wrapper: <cache>/bin/<name>-<sha256(go.mod+go.sum)[:16]>. */
function wrapperBinDir(name: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(clusterDir, name, 'go.mod')));
  h.update(readFileSync(join(clusterDir, name, 'go.sum')));
  return join(cacheDir(), 'bin', `${name}-${h.digest('hex').slice(0, 16)}`);
}

export interface VeleroBinaries {
  velero: string;
  plugin: string;
  /** The pinned Velero version, from the wrapper's go.mod. */
  version: string;
}

/** The cached Velero binaries for the pinned wrappers, or why they are not there. */
export function findVeleroBinaries(): VeleroBinaries | { missing: string } {
  const v = wrapperBinDir('velero');
  const p = wrapperBinDir('velero-plugin-for-aws');
  for (const d of [v, p])
    if (!existsSync(join(d, '.done')))
      return { missing: `${d} is not built (run: bash test/cluster/build.sh velero)` };
  const version =
    /^require github\.com\/vmware-tanzu\/velero (\S+)$/m.exec(
      readFileSync(join(clusterDir, 'velero', 'go.mod'), 'utf8'),
    )?.[1] ?? 'unknown';
  return { velero: join(v, 'velero'), plugin: join(p, 'velero-plugin-for-aws'), version };
}

/** Builds (or reuses) the Velero binaries; a cold build takes many minutes on two cores. */
export function buildVeleroBinaries(log: (l: string) => void = () => {}): VeleroBinaries {
  const found = findVeleroBinaries();
  if ('velero' in found) return found;
  log('building velero and velero-plugin-for-aws from Go modules (cold build is long)');
  execFileSync('bash', [join(clusterDir, 'build.sh'), 'velero'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const again = findVeleroBinaries();
  if (!('velero' in again)) throw new Error(again.missing);
  return again;
}

export interface VeleroOptions {
  kubeconfig: string;
  kubectl: string;
  s3: S3Info;
  /** Holds the server's log, credentials file, plugin dir and TMPDIR. */
  workDir: string;
  binaries: VeleroBinaries;
  /** The BackupStorageLocation's prefix in the harness's bucket (default velero). */
  prefix?: string;
  /**
   * --backup-sync-period (default 1m). v1.17 looks for new backups in the bucket once a minute
   * whatever this says; a short period makes each look import (the default can skip one).
   */
  backupSyncPeriod?: string;
  log?: (line: string) => void;
}

export interface VeleroResult {
  /** Wall time from creating the Backup/Restore to observing its final phase. */
  seconds: number;
  /** Velero's own completionTimestamp - startTimestamp (whole seconds). */
  veleroSeconds?: number;
  phase: string;
  totalItems: number;
  /** itemsBackedUp or itemsRestored. */
  items: number;
  errors: number;
  warnings: number;
  failureReason?: string;
  /** Peak of the summed RSS of velero server and its plugin processes, sampled every 50 ms. */
  peakRssMiB: number;
}

export interface Velero {
  logFile: string;
  veleroBackup(namespaces: string[], name: string): Promise<VeleroResult>;
  veleroRestore(
    backupName: string,
    namespaceMapping: Map<string, string> | Record<string, string>,
    restoreName?: string,
  ): Promise<VeleroResult>;
  stop(): Promise<void>;
}

interface VeleroStatus {
  phase?: string;
  progress?: { totalItems?: number; itemsBackedUp?: number; itemsRestored?: number };
  errors?: number;
  warnings?: number;
  failureReason?: string;
  validationErrors?: string[];
  startTimestamp?: string;
  completionTimestamp?: string;
}

const FINAL = new Set(['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation']);

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** RSS of a process and all its descendants (velero runs each plugin as a child process). */
function treeRssKiB(pid: number): number {
  let sum = rssKiB(pid);
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  } catch {
    // gone
  }
  for (const c of children) if (c) sum += treeRssKiB(Number(c));
  return sum;
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

export async function startVelero(opts: VeleroOptions): Promise<Velero> {
  const log = opts.log ?? (() => {});
  const { workDir } = opts;
  mkdirSync(workDir, { recursive: true });
  const release = await machineLock('velero-server', log);
  let velero: Velero;
  try {
    velero = await startLocked(opts, log);
  } catch (err) {
    release();
    throw err;
  }
  return {
    ...velero,
    stop: async () => {
      try {
        await velero.stop();
      } finally {
        release();
      }
    },
  };
}

async function startLocked(opts: VeleroOptions, log: (line: string) => void): Promise<Velero> {
  const { kubectl, kubeconfig, s3, workDir } = opts;
  const k = (args: string[], input?: string) =>
    new Promise<string>((res, rej) => {
      const child = execFile(
        kubectl,
        ['--kubeconfig', kubeconfig, ...args],
        { maxBuffer: 1 << 28 },
        (err, stdout, stderr) =>
          err ? rej(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : res(stdout),
      );
      if (input !== undefined) child.stdin?.end(input);
    });

  // CRDs, straight from the velero binary (no cluster access needed with --dry-run).
  const { stdout: crds } = await execFileP(
    opts.binaries.velero,
    ['install', '--crds-only', '--dry-run', '-o', 'yaml'],
    { maxBuffer: 1 << 28, env: { ...process.env, KUBECONFIG: kubeconfig } },
  );
  await k(['apply', '--server-side', '-f', '-'], crds);
  await k([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd',
    '-l',
    'component=velero',
  ]);
  // Another velero server (another test file) may have used the namespace before.
  await k(
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: VELERO_NAMESPACE } }),
  );
  // Every restore instantiates the built-in PodVolumeRestoreAction, which reads the image of
  // Deployment velero/velero and fails the whole restore ("deployments.apps \"velero\" not
  // found") without it. Out of cluster there is none, so create a stand-in with 0 replicas.
  await k(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'velero', namespace: VELERO_NAMESPACE, labels: { component: 'velero' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { deploy: 'velero' } },
        template: {
          metadata: { labels: { deploy: 'velero', component: 'velero' } },
          spec: {
            containers: [
              {
                name: 'velero',
                image: `velero/velero:${opts.binaries.version}`,
                command: ['/velero'],
                args: ['server'],
              },
            ],
          },
        },
      },
    }),
  );
  log('velero CRDs installed, namespace velero and stand-in Deployment velero created');

  // The AWS plugin reads AWS_SHARED_CREDENTIALS_FILE, inherited from the server.
  const credentials = join(workDir, 'credentials');
  writeFileSync(
    credentials,
    `[default]\naws_access_key_id=${s3.accessKey}\naws_secret_access_key=${s3.secretKey}\n`,
    { mode: 0o600 },
  );
  // Velero runs every executable in --plugin-dir as a plugin: give it a directory of its own.
  const pluginDir = join(workDir, 'plugins');
  mkdirSync(pluginDir, { recursive: true });
  const pluginLink = join(pluginDir, 'velero-plugin-for-aws');
  if (!existsSync(pluginLink)) symlinkSync(opts.binaries.plugin, pluginLink);
  const tmp = join(workDir, 'tmp'); // Velero's credentials store defaults to $TMPDIR/credentials
  mkdirSync(tmp, { recursive: true });

  // controller-runtime's own metrics listener inside velero server binds :8080 on all
  // interfaces, and v1.17.2 has no flag to move it: fail clearly if the port is taken.
  await new Promise<void>((res, rej) => {
    const probe = createServer();
    probe.once('error', (err) =>
      rej(
        new Error(
          `port 8080 is in use (${(err as NodeJS.ErrnoException).code}); velero server's controller-runtime metrics listener needs it and cannot be moved`,
        ),
      ),
    );
    probe.listen(8080, () => probe.close(() => res()));
  });
  const metricsPort = await freePort();
  const logFile = join(workDir, 'velero-server.log');
  const args = [
    'server',
    '--namespace',
    VELERO_NAMESPACE,
    '--kubeconfig',
    kubeconfig,
    '--plugin-dir',
    pluginDir,
    '--features=',
    '--uploader-type',
    'kopia',
    '--default-backup-storage-location',
    BSL,
    '--metrics-address',
    `127.0.0.1:${metricsPort}`,
    '--profiler-address=',
    '--log-level',
    'info',
    ...(opts.backupSyncPeriod ? ['--backup-sync-period', opts.backupSyncPeriod] : []),
  ];
  const fd = openSync(logFile, 'a');
  const server: ChildProcess = spawn(opts.binaries.velero, args, {
    stdio: ['ignore', fd, fd],
    // Own process group, so stopping it also stops the plugin processes it started.
    detached: true,
    env: {
      ...process.env,
      VELERO_NAMESPACE,
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_EC2_METADATA_DISABLED: 'true',
      TMPDIR: tmp,
      HOME: workDir,
    },
  });
  closeSync(fd);
  const pid = server.pid as number;
  let exited = false;
  const exitedP = new Promise<void>((r) =>
    server.on('exit', () => {
      exited = true;
      r();
    }),
  );
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  const onExit = () => killGroup('SIGKILL');
  process.on('exit', onExit);
  log(`velero server started (pid ${pid}), log ${logFile}`);

  const client = KubeClient.connect({ kubeconfig }, 4);
  const alive = () => {
    if (exited)
      throw new Error(
        `velero server exited (code ${server.exitCode}); last lines:\n${tail(logFile)}`,
      );
  };
  const stop = async () => {
    process.off('exit', onExit);
    if (exited) return;
    killGroup('SIGTERM');
    const t = setTimeout(() => killGroup('SIGKILL'), 5000);
    await exitedP;
    clearTimeout(t);
    killGroup('SIGKILL'); // stray plugin processes
  };

  try {
    // The BSL: the AWS plugin against MinIO, path-style, under prefix velero/ in the same bucket.
    const bsl = [
      'apiVersion: velero.io/v1',
      'kind: BackupStorageLocation',
      'metadata:',
      `  name: ${BSL}`,
      `  namespace: ${VELERO_NAMESPACE}`,
      'spec:',
      '  provider: aws',
      '  default: true',
      '  objectStorage:',
      `    bucket: ${yamlString(s3.bucket)}`,
      `    prefix: ${yamlString(opts.prefix ?? 'velero')}`,
      '  config:',
      '    region: us-east-1',
      '    s3ForcePathStyle: "true"',
      `    s3Url: ${yamlString(s3.endpoint)}`,
      '',
    ].join('\n');
    await k(['apply', '-f', '-'], bsl);
    const deadline = Date.now() + 120_000;
    for (;;) {
      alive();
      const b = await client.request<{ status?: { phase?: string; message?: string } }>(
        'GET',
        `${API}/backupstoragelocations/${BSL}`,
      );
      if (b.status?.phase === 'Available') break;
      if (Date.now() > deadline)
        throw new Error(
          `BackupStorageLocation not Available after 120s (phase ${b.status?.phase ?? '-'}: ${b.status?.message ?? ''}); velero log:\n${tail(logFile)}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
    log('velero BackupStorageLocation Available');
  } catch (err) {
    await stop();
    throw err;
  }

  /** Creates the CR, then polls it (every 100 ms) until a final phase. */
  const run = async (
    resource: 'backups' | 'restores',
    body: Record<string, unknown>,
    name: string,
  ): Promise<VeleroResult> => {
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, treeRssKiB(pid));
    }, 50);
    try {
      const started = process.hrtime.bigint();
      await client.request('POST', `${API}/${resource}`, { body });
      let s: VeleroStatus = {};
      for (;;) {
        alive();
        s =
          (await client.request<{ status?: VeleroStatus }>('GET', `${API}/${resource}/${name}`))
            .status ?? {};
        if (s.phase && FINAL.has(s.phase)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const veleroSeconds =
        s.startTimestamp && s.completionTimestamp
          ? (Date.parse(s.completionTimestamp) - Date.parse(s.startTimestamp)) / 1000
          : undefined;
      const result: VeleroResult = {
        seconds,
        veleroSeconds,
        phase: s.phase as string,
        totalItems: s.progress?.totalItems ?? 0,
        items: s.progress?.itemsBackedUp ?? s.progress?.itemsRestored ?? 0,
        errors: s.errors ?? 0,
        warnings: s.warnings ?? 0,
        failureReason: s.failureReason ?? s.validationErrors?.join('; '),
        peakRssMiB: peak / 1024,
      };
      if (s.phase !== 'Completed')
        log(
          `velero ${resource.slice(0, -1)} ${name}: ${s.phase} (errors ${result.errors}, warnings ${result.warnings}${result.failureReason ? `, ${result.failureReason}` : ''}); see ${logFile} or the ${resource} log in MinIO`,
        );
      return result;
    } finally {
      clearInterval(sampler);
    }
  };

  return {
    logFile,
    veleroBackup(namespaces, name) {
      return run(
        'backups',
        {
          apiVersion: 'velero.io/v1',
          kind: 'Backup',
          metadata: { name, namespace: VELERO_NAMESPACE },
          spec: {
            includedNamespaces: namespaces,
            storageLocation: BSL,
            snapshotVolumes: false,
            defaultVolumesToFsBackup: false,
            ttl: '720h0m0s',
          },
        },
        name,
      );
    },
    veleroRestore(backupName, namespaceMapping, restoreName = `${backupName}-restore`) {
      const mapping =
        namespaceMapping instanceof Map ? Object.fromEntries(namespaceMapping) : namespaceMapping;
      return run(
        'restores',
        {
          apiVersion: 'velero.io/v1',
          kind: 'Restore',
          metadata: { name: restoreName, namespace: VELERO_NAMESPACE },
          spec: {
            backupName,
            includedNamespaces: Object.keys(mapping),
            namespaceMapping: mapping,
            restorePVs: false,
          },
        },
        restoreName,
      );
    },
    stop,
  };
}
