// `npm run cluster -- up|down|env|build`: a throwaway control plane + MinIO for manual use,
// demos and benchmarks. `up` starts a supervisor in the background and prints shell exports.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBinaries, startCluster } from './harness.js';

const stateDir = resolve(process.env.KUBECTL_SNAPSHOT_CLUSTER_DIR ?? '.cluster');
const pidFile = join(stateDir, 'supervisor.pid');
const envFile = join(stateDir, 'env.sh');
const errFile = join(stateDir, 'error.txt');

function exportsFor(c: {
  kubeconfig: string;
  s3: { endpoint: string; accessKey: string; secretKey: string; bucket: string };
  binDir: string;
}): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    `export KUBECONFIG=${q(c.kubeconfig)}`,
    `export KUBECTL_SNAPSHOT_TEST_S3_ENDPOINT=${q(c.s3.endpoint)}`,
    `export AWS_ACCESS_KEY_ID=${q(c.s3.accessKey)}`,
    `export AWS_SECRET_ACCESS_KEY=${q(c.s3.secretKey)}`,
    `export KUBECTL_SNAPSHOT_TEST_BUCKET=${q(c.s3.bucket)}`,
    `export PATH=${q(c.binDir)}:"$PATH"`,
    '',
  ].join('\n');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runningPid(): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  return Number.isInteger(pid) && alive(pid) ? pid : undefined;
}

async function serve(): Promise<void> {
  try {
    const cluster = await startCluster({
      dir: join(stateDir, 'data'),
      log: (l) => console.error(l),
    });
    writeFileSync(envFile, exportsFor(cluster), { mode: 0o600 });
    const stop = async () => {
      await cluster.stop();
      rmSync(envFile, { force: true });
      rmSync(pidFile, { force: true });
      process.exit(0);
    };
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    setInterval(() => {}, 1 << 30);
  } catch (err) {
    writeFileSync(errFile, String(err instanceof Error ? err.message : err));
    process.exit(1);
  }
}

async function up(): Promise<void> {
  if (runningPid()) {
    process.stdout.write(readFileSync(envFile, 'utf8'));
    return;
  }
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true });
  // Build in the foreground so a cold build's progress is visible.
  ensureBinaries((l) => console.error(l));
  const out = openSync(join(stateDir, 'supervisor.log'), 'a');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve'], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, KUBECTL_SNAPSHOT_CLUSTER_DIR: stateDir },
  });
  closeSync(out);
  writeFileSync(pidFile, String(child.pid));
  child.unref();
  const started = Date.now();
  while (!existsSync(envFile)) {
    if (existsSync(errFile) || !alive(child.pid as number)) {
      const why = existsSync(errFile)
        ? readFileSync(errFile, 'utf8')
        : readFileSync(join(stateDir, 'supervisor.log'), 'utf8');
      console.error(`cluster failed to start:\n${why}`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.error(
    `control plane + MinIO up in ${((Date.now() - started) / 1000).toFixed(1)}s; stop with: npm run cluster -- down`,
  );
  process.stdout.write(readFileSync(envFile, 'utf8'));
}

async function down(): Promise<void> {
  const pid = runningPid();
  if (!pid) {
    console.error('no cluster is running');
    return;
  }
  process.kill(pid, 'SIGTERM');
  while (alive(pid)) await new Promise((r) => setTimeout(r, 100));
  rmSync(stateDir, { recursive: true, force: true });
  console.error('cluster stopped');
}

const cmd = process.argv[2];
switch (cmd) {
  case 'up':
    await up();
    break;
  case 'down':
    await down();
    break;
  case 'env':
    if (!runningPid()) {
      console.error('no cluster is running; start one with: npm run cluster -- up');
      process.exit(1);
    }
    process.stdout.write(readFileSync(envFile, 'utf8'));
    break;
  case 'build':
    console.log(ensureBinaries((l) => console.error(l)));
    break;
  case 'serve':
    await serve();
    break;
  default:
    console.error('usage: npm run cluster -- up|down|env|build');
    process.exit(1);
}
