// A real, throwaway control plane for tests, demos and benchmarks:
// etcd → kube-apiserver → kube-controller-manager → MinIO, each on a free loopback port
// with its own directory and log file. Nothing is mocked.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface S3Info {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
}

export interface ClusterInfo {
  dir: string;
  server: string;
  kubeconfig: string;
  s3: S3Info;
  /** Directory with the kubectl (and krew) binaries used by this cluster. */
  binDir: string;
  pids: number[];
}

export interface Cluster extends ClusterInfo {
  /** A kubeconfig for a user authenticated by client certificate, with no RBAC rights. */
  userKubeconfig(user: string, groups?: string[]): string;
  stopMinio(): Promise<void>;
  startMinio(): Promise<void>;
  /** Stops kube-apiserver; `startApiserver` brings it back on the same port with the same data. */
  stopApiserver(): Promise<void>;
  startApiserver(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  dir?: string;
  log?: (line: string) => void;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Locates the repository's test/cluster directory from source or from build/. */
function clusterSourceDir(): string {
  for (const candidate of [here, resolve(here, '../../../test/cluster')]) {
    if (existsSync(join(candidate, 'build.sh'))) return candidate;
  }
  throw new Error(`cannot find test/cluster/build.sh near ${here}`);
}

/**
 * Returns a directory holding etcd, kube-apiserver, kube-controller-manager, kubectl and
 * minio. KUBEBUILDER_ASSETS wins when it has them all; otherwise the cached Go build runs
 * (a no-op when every pinned binary is already cached).
 */
export function ensureBinaries(log: (l: string) => void = () => {}): string {
  const needed = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl', 'minio'];
  const assets = process.env.KUBEBUILDER_ASSETS;
  if (assets && needed.every((b) => existsSync(join(assets, b)))) return assets;
  log('building cluster binaries from Go modules (cached after the first run)');
  const out = execFileSync('bash', [join(clusterSourceDir(), 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop() as string;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port')),
      );
    });
  });
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, an apiserver serving certificate and client certificates, all made with openssl. */
class Pki {
  constructor(
    readonly dir: string,
    create = true,
  ) {
    if (!create) return;
    mkdirSync(dir, { recursive: true });
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '3650',
        '-subj',
        '/CN=kubectl-snapshot-test-ca',
      ],
      dir,
    );
  }

  get caFile(): string {
    return join(this.dir, 'ca.crt');
  }

  issue(name: string, subject: string, extensions: string[]): { cert: string; key: string } {
    const key = `${name}.key`;
    const csr = `${name}.csr`;
    const cert = `${name}.crt`;
    const ext = `${name}.ext`;
    writeFileSync(join(this.dir, ext), `${extensions.join('\n')}\n`);
    openssl(
      ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subject],
      this.dir,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-out',
        cert,
        '-days',
        '3650',
        '-extfile',
        ext,
      ],
      this.dir,
    );
    return { cert: join(this.dir, cert), key: join(this.dir, key) };
  }

  client(user: string, groups: string[]): { cert: string; key: string } {
    const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`;
    return this.issue(`user-${user}`, subject, ['extendedKeyUsage=clientAuth']);
  }
}

function writeKubeconfig(
  path: string,
  server: string,
  ca: string,
  user: string,
  cert: string,
  key: string,
) {
  const b64 = (f: string) => readFileSync(f).toString('base64');
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      '  cluster:',
      `    server: ${server}`,
      `    certificate-authority-data: ${b64(ca)}`,
      'users:',
      `- name: ${user}`,
      '  user:',
      `    client-certificate-data: ${b64(cert)}`,
      `    client-key-data: ${b64(key)}`,
      'contexts:',
      '- name: test',
      '  context:',
      '    cluster: test',
      `    user: ${user}`,
      'current-context: test',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
}

interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

interface ProbeOptions {
  ca?: string;
  cert?: string;
  key?: string;
}

function probe(url: string, tls: ProbeOptions = {}): Promise<number> {
  return new Promise((res) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: 'GET',
        timeout: 2000,
        ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}),
        ...(tls.cert && tls.key
          ? { cert: readFileSync(tls.cert), key: readFileSync(tls.key) }
          : {}),
      },
      (resp) => {
        resp.resume();
        res(resp.statusCode ?? 0);
      },
    );
    req.on('error', () => res(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Writes a kubeconfig for a user authenticated by a client certificate from the cluster's
 * CA, with no RBAC rights of its own. Works from any process that can read the cluster dir.
 */
export function userKubeconfig(
  info: Pick<ClusterInfo, 'dir' | 'server'>,
  user: string,
  groups: string[] = [],
): string {
  const pki = new Pki(join(info.dir, 'pki'), false);
  const c = pki.client(user, groups);
  const path = join(info.dir, `${user}.kubeconfig`);
  writeKubeconfig(path, info.server, pki.caFile, user, c.cert, c.key);
  return path;
}

const live = new Set<Cluster>();
let exitHooksInstalled = false;

/** Kills every process of every live harness when this process ends, so nothing is orphaned. */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const killAll = () => {
    for (const c of live)
      for (const pid of c.pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

export async function startCluster(opts: StartOptions = {}): Promise<Cluster> {
  const log = opts.log ?? (() => {});
  const binDir = ensureBinaries(log);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kubectl-snapshot-cluster-'));
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const procs: Proc[] = [];
  installExitHooks();

  const spawnProc = (name: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc => {
    const logFile = join(dir, 'logs', `${name}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(join(binDir, name), args, {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
    });
    closeSync(fd);
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const p = { name, child, logFile, exited };
    procs.push(p);
    return p;
  };

  const waitReady = async (p: Proc, check: () => Promise<boolean>, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    let dead = false;
    void p.exited.then(() => {
      dead = true;
    });
    while (Date.now() < deadline) {
      if (dead) break;
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 150));
    }
    const why = dead
      ? `exited with code ${p.child.exitCode}`
      : `not ready after ${timeoutMs / 1000}s`;
    throw new Error(`${p.name} ${why}; last lines of ${p.logFile}:\n${tail(p.logFile)}`);
  };

  const killProcs = async (list: Proc[]) => {
    await Promise.all(
      list.map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        p.child.kill('SIGTERM');
        const t = setTimeout(() => p.child.kill('SIGKILL'), 5000);
        await p.exited;
        clearTimeout(t);
      }),
    );
  };

  const stopAll = async () => {
    // Reverse start order: MinIO, controller-manager, apiserver, etcd.
    for (const p of [...procs].reverse()) await killProcs([p]);
  };

  try {
    // PKI: one CA signs the serving certificate and every client certificate.
    const pki = new Pki(join(dir, 'pki'));
    const serving = pki.issue('apiserver', '/CN=kube-apiserver', [
      'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc',
      'extendedKeyUsage=serverAuth',
    ]);
    const admin = pki.client('admin', ['system:masters']);
    const kcmClient = pki.client('system:kube-controller-manager', []);
    const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKey = join(pki.dir, 'sa.key');
    const saPub = join(pki.dir, 'sa.pub');
    writeFileSync(saKey, sa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(saPub, sa.publicKey.export({ type: 'spki', format: 'pem' }));

    // etcd
    const [etcdPort, etcdPeer, apiPort, kcmPort, minioPort, minioConsole] = await Promise.all(
      Array.from({ length: 6 }, () => freePort()),
    );
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = spawnProc('etcd', [
      '--name',
      'test',
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      etcdUrl,
      '--advertise-client-urls',
      etcdUrl,
      '--listen-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster',
      `test=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync',
      // Benchmarks write gigabytes (50,000 objects of up to 50 KB, restored several times);
      // etcd's default 2 GiB quota would turn the cluster read-only halfway.
      '--quota-backend-bytes',
      String(8 * 2 ** 30),
      '--log-level',
      'warn',
    ]);
    await waitReady(etcd, async () => (await probe(`${etcdUrl}/health`)) === 200);
    log(`etcd ready on ${etcdUrl}`);

    // kube-apiserver
    const server = `https://127.0.0.1:${apiPort}`;
    const apiserverArgs = [
      '--etcd-servers',
      etcdUrl,
      '--bind-address',
      '127.0.0.1',
      '--advertise-address',
      '127.0.0.1',
      '--secure-port',
      String(apiPort),
      '--cert-dir',
      join(dir, 'apiserver-certs'),
      '--tls-cert-file',
      serving.cert,
      '--tls-private-key-file',
      serving.key,
      '--client-ca-file',
      pki.caFile,
      '--authorization-mode',
      'RBAC',
      '--service-cluster-ip-range',
      '10.0.0.0/16',
      '--service-node-port-range',
      '30000-32767',
      '--allow-privileged=true',
      '--service-account-issuer',
      `${server}/`,
      '--service-account-key-file',
      saPub,
      '--service-account-signing-key-file',
      saKey,
    ];
    let apiserver = spawnProc('kube-apiserver', apiserverArgs);
    const adminKubeconfig = join(dir, 'kubeconfig');
    writeKubeconfig(adminKubeconfig, server, pki.caFile, 'admin', admin.cert, admin.key);
    const adminTls = { ca: pki.caFile, cert: admin.cert, key: admin.key };
    await waitReady(apiserver, async () => (await probe(`${server}/readyz`, adminTls)) === 200);
    log(`kube-apiserver ready on ${server}`);

    // kube-controller-manager: namespace deletion, GC, service accounts, Deployment and CronJob controllers.
    const kcmKubeconfig = join(dir, 'kcm.kubeconfig');
    writeKubeconfig(kcmKubeconfig, server, pki.caFile, 'kcm', kcmClient.cert, kcmClient.key);
    const kcm = spawnProc('kube-controller-manager', [
      '--kubeconfig',
      kcmKubeconfig,
      '--authentication-kubeconfig',
      kcmKubeconfig,
      '--authorization-kubeconfig',
      kcmKubeconfig,
      '--controllers',
      '*',
      '--use-service-account-credentials',
      '--service-account-private-key-file',
      saKey,
      '--root-ca-file',
      pki.caFile,
      '--service-cluster-ip-range',
      '10.0.0.0/16',
      '--leader-elect=false',
      '--bind-address',
      '127.0.0.1',
      '--secure-port',
      String(kcmPort),
      '--cert-dir',
      join(dir, 'kcm-certs'),
      // Each controller's client defaults to 20 requests/s: 500 Deployments then take a minute
      // to get their ReplicaSets, and tests and benchmarks wait for the control plane, not for
      // the code under test.
      '--kube-api-qps',
      '200',
      '--kube-api-burst',
      '400',
    ]);
    // The default ServiceAccount appearing proves the controllers are really running.
    const kubectl = join(binDir, 'kubectl');
    await waitReady(kcm, async () => {
      try {
        execFileSync(
          kubectl,
          ['--kubeconfig', adminKubeconfig, 'get', 'serviceaccount', 'default', '-n', 'default'],
          {
            stdio: 'ignore',
          },
        );
        return true;
      } catch {
        return false;
      }
    });
    log('kube-controller-manager ready');

    // MinIO with root credentials and one bucket.
    const s3: S3Info = {
      endpoint: `http://127.0.0.1:${minioPort}`,
      accessKey: `test-${randomBytes(4).toString('hex')}`,
      secretKey: randomBytes(18).toString('base64url'),
      bucket: 'snapshots',
    };
    let minio: Proc | undefined;
    const startMinio = async () => {
      minio = spawnProc(
        'minio',
        [
          'server',
          join(dir, 'minio'),
          '--address',
          `127.0.0.1:${minioPort}`,
          '--console-address',
          `127.0.0.1:${minioConsole}`,
          '--quiet',
        ],
        {
          MINIO_ROOT_USER: s3.accessKey,
          MINIO_ROOT_PASSWORD: s3.secretKey,
          MINIO_UPDATE: 'off',
          MINIO_BROWSER: 'off',
        },
      );
      const m = minio;
      await waitReady(m, async () => (await probe(`${s3.endpoint}/minio/health/ready`)) === 200);
    };
    await startMinio();
    // Buckets are directories in a single-drive MinIO; creating it on disk before start would
    // race, so make it through the S3 API.
    const { Client } = await import('minio');
    const mc = new Client({
      endPoint: '127.0.0.1',
      port: minioPort,
      useSSL: false,
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      region: 'us-east-1',
    });
    await mc.makeBucket(s3.bucket, 'us-east-1');
    log(`MinIO ready on ${s3.endpoint}, bucket ${s3.bucket}`);

    const cluster: Cluster = {
      dir,
      server,
      kubeconfig: adminKubeconfig,
      s3,
      binDir,
      get pids() {
        return procs
          .filter((p) => p.child.exitCode === null && p.child.signalCode === null)
          .map((p) => p.child.pid as number);
      },
      userKubeconfig(user: string, groups: string[] = []) {
        return userKubeconfig({ dir, server }, user, groups);
      },
      async stopMinio() {
        if (minio) await killProcs([minio]);
      },
      startMinio,
      async stopApiserver() {
        await killProcs([apiserver]);
      },
      async startApiserver() {
        apiserver = spawnProc('kube-apiserver', apiserverArgs);
        await waitReady(apiserver, async () => (await probe(`${server}/readyz`, adminTls)) === 200);
      },
      async stop() {
        live.delete(cluster);
        await stopAll();
        if (!opts.dir && !process.env.KUBECTL_SNAPSHOT_KEEP_CLUSTER)
          rmSync(dir, { recursive: true, force: true });
      },
    };
    live.add(cluster);
    return cluster;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
