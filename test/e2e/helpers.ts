// Shared helpers for e2e tests: real clients against the harness's control plane and MinIO.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Client as MinioClient } from 'minio';
import { inject } from 'vitest';

export const cluster = () => inject('cluster');

export function kubeConfig(path = cluster().kubeconfig): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export function api<T extends k8s.ApiType>(type: k8s.ApiConstructor<T>, path?: string): T {
  return kubeConfig(path).makeApiClient(type);
}

export function objects(path?: string): k8s.KubernetesObjectApi {
  return k8s.KubernetesObjectApi.makeApiClient(kubeConfig(path));
}

export function minio(): MinioClient {
  const { s3 } = cluster();
  const u = new URL(s3.endpoint);
  return new MinioClient({
    endPoint: u.hostname,
    port: Number(u.port),
    useSSL: false,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    region: 'us-east-1',
  });
}

let counter = 0;
/** A unique, valid namespace name per test. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid.toString(36)}-${Date.now().toString(36).slice(-4)}${counter}`.slice(
    0,
    50,
  );
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`,
  );
}

export function tempDir(prefix = 'ks-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A copy of the admin kubeconfig (its CA, its client certificate) whose server is `server`. */
export function kubeconfigAt(server: string): string {
  const text = readFileSync(cluster().kubeconfig, 'utf8').replace(
    /server: \S+/,
    `server: ${server}`,
  );
  const path = join(tempDir('ks-kc-'), 'kubeconfig');
  writeFileSync(path, text);
  return path;
}

const execFileP = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI exactly as a user would (the development launcher, a real process),
 * against the harness's cluster and MinIO unless `env` says otherwise.
 */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileP(launcher(), args, {
      env: cliEnv(env),
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const launcher = () => join(import.meta.dirname, '..', '..', 'bin', 'kubectl-snapshot');

function cliEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const c = cluster();
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KUBECONFIG: c.kubeconfig,
    AWS_ACCESS_KEY_ID: c.s3.accessKey,
    AWS_SECRET_ACCESS_KEY: c.s3.secretKey,
    ...env,
  };
}

/**
 * `cli`, doing `action` once while the command runs, as soon as its stderr matches `cue`
 * (a line the command prints when it reaches the state the test acts on).
 */
export function cliOnCue(
  args: string[],
  env: NodeJS.ProcessEnv,
  cue: RegExp,
  action: () => Promise<void>,
): Promise<CliResult & { cued: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(launcher(), args, { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let acting: Promise<void> | undefined;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!acting && cue.test(stderr)) acting = action();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      Promise.resolve(acting)
        .then(() => resolve({ code: code ?? -1, stdout, stderr, cued: acting !== undefined }))
        .catch(reject);
    });
  });
}

/** kubectl (a client other than ours) with the harness's admin kubeconfig; its stdout. */
export function kubectl(...args: string[]): string {
  return execFileSync(
    join(cluster().binDir, 'kubectl'),
    ['--kubeconfig', cluster().kubeconfig, ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    },
  );
}

/** `s3://bucket/prefix?endpoint=…` for the harness's MinIO. */
export function s3Url(prefix: string): string {
  const { s3 } = cluster();
  return `s3://${s3.bucket}/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1&pathStyle=true`;
}

/** The object as the cluster has it now, or undefined when it does not exist. */
export async function readOptional<T extends k8s.KubernetesObject>(
  o: T,
): Promise<(T & Record<string, unknown>) | undefined> {
  try {
    return (await objects().read(o as T & { metadata: { name: string } })) as T &
      Record<string, unknown>;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}
