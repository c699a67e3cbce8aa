// The release as a user gets it: krew (built from Go modules with the cluster binaries)
// installs the linux-x64 archive from the generated manifest into a temporary KREW_ROOT, and
// kubectl's plugin discovery runs the single executable, with a PATH that has no node on it,
// for a real backup and restore against the test control plane. The packaged binary and the
// development launcher must behave the same.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtArchive, builtBinary, projectRoot } from '../../scripts/package.js';
import { configMap, create, namespace } from './fixtures.js';
import { api, type CliResult, cli, cluster, s3Url, tempDir, uniqueName, until } from './helpers.js';
import { ensurePackaged, manifest } from './packaged.js';

const execFileP = promisify(execFile);
const root = projectRoot();
const archive = builtArchive('linux-x64', root);
const binary = builtBinary('linux-x64', root);

async function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileP(file, args, { env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A run's stdout as JSON; when it is not, an error that shows what the run printed. */
function json(r: CliResult, what: string): unknown {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(
      `${what}: not JSON (exit code ${r.code}): stdout ${JSON.stringify(r.stdout.slice(0, 300))}, stderr ${JSON.stringify(r.stderr.slice(0, 1000))}`,
    );
  }
}

describe('krew install of the single executable', () => {
  const c = cluster();
  const kubectl = join(c.binDir, 'kubectl');
  const krewRoot = tempDir('ks-krew-root-');
  const home = tempDir('ks-krew-home-');
  const storage = `file://${tempDir('ks-krew-store-')}`;
  const ns = uniqueName('krew');
  const snapshot = 'via-krew';
  // Only krew's bin directory and the directory with kubectl and kubectl-krew: no node.
  const PATH = [join(krewRoot, 'bin'), c.binDir].join(delimiter);
  const env: NodeJS.ProcessEnv = {
    PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    KREW_ROOT: krewRoot,
    KREW_NO_UPGRADE_CHECK: '1',
    KUBECONFIG: c.kubeconfig,
    AWS_ACCESS_KEY_ID: c.s3.accessKey,
    AWS_SECRET_ACCESS_KEY: c.s3.secretKey,
  };
  const kc = (args: string[]) => run(kubectl, args, env);

  beforeAll(async () => {
    await ensurePackaged(['linux-x64']);
    mkdirSync(join(home, '.config'), { recursive: true });
  }, 600_000);

  it('has no node on the PATH the plugin runs with', () => {
    for (const dir of PATH.split(delimiter)) expect(existsSync(join(dir, 'node'))).toBe(false);
    expect(existsSync(join(c.binDir, 'kubectl-krew'))).toBe(true);
  });

  it('installs from the generated manifest and archive with kubectl krew', async () => {
    const r = await kc(['krew', 'install', `--manifest=${manifest}`, `--archive=${archive}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Installed plugin: snapshot/);
    expect(existsSync(join(krewRoot, 'bin', 'kubectl-snapshot'))).toBe(true);
    expect(existsSync(join(krewRoot, 'store', 'snapshot', 'v0.1.0', 'LICENSE'))).toBe(true);
    // `krew list` wants an initialised index (a git clone); the receipt is what it would read.
    expect(existsSync(join(krewRoot, 'receipts', 'snapshot.yaml'))).toBe(true);
    const plugins = await kc(['plugin', 'list']);
    expect(plugins.stdout).toContain(join(krewRoot, 'bin', 'kubectl-snapshot'));
  });

  it('runs `kubectl snapshot version` through plugin discovery', async () => {
    const r = await kc(['snapshot', 'version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^kubectl-snapshot v0\.1\.0 \(node v26\.10\.0, linux\/x64\)\n$/);
  });

  it('backs up and restores a namespace through `kubectl snapshot`', async () => {
    const core = api(k8s.CoreV1Api);
    await create([namespace(ns), configMap(ns, 'settings', { mode: 'krew', size: '3' })]);

    const b = await kc(['snapshot', 'backup', snapshot, '-n', ns, '--storage', storage]);
    expect(b.code, b.stderr).toBe(0);
    const listed = await kc(['snapshot', 'list', '--storage', storage, '-o', 'json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(snapshot);

    await core.deleteNamespacedConfigMap({ name: 'settings', namespace: ns });
    await until('the ConfigMap to be gone', async () => {
      try {
        await core.readNamespacedConfigMap({ name: 'settings', namespace: ns });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    });

    const r = await kc(['snapshot', 'restore', snapshot, '--storage', storage, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      results: { kind: string; name: string; outcome: string }[];
    };
    expect(report.results).toContainEqual(
      expect.objectContaining({ kind: 'ConfigMap', name: 'settings', outcome: 'created' }),
    );
    const back = await core.readNamespacedConfigMap({ name: 'settings', namespace: ns });
    expect(back.data).toEqual({ mode: 'krew', size: '3' });
  });

  describe('the packaged binary and the development launcher', () => {
    const same = async (args: string[]) => {
      const packaged = await run(binary, args, env);
      const dev = await cli(args, { ...env, PATH: process.env.PATH });
      return { packaged, dev };
    };

    it('print the same --help', async () => {
      for (const args of [['--help'], ['restore', '--help'], ['backup', '--help']]) {
        const { packaged, dev } = await same(args);
        expect(packaged.code).toBe(0);
        expect(packaged.stdout).toBe(dev.stdout);
        expect(packaged.stdout).toContain('kubectl snapshot');
      }
    });

    it('give the same restore report, dry run and plan on the same backup', async () => {
      for (const args of [
        ['restore', snapshot, '--storage', storage, '-o', 'json'],
        ['restore', snapshot, '--storage', storage, '--dry-run=client', '-o', 'json'],
        ['diff', snapshot, '--storage', storage, '-o', 'json'],
        ['describe', snapshot, '--storage', storage, '-o', 'json'],
      ]) {
        const { packaged, dev } = await same(args);
        const what = args.join(' ');
        expect(packaged.code, `${what}: ${packaged.stderr} | ${dev.stderr}`).toBe(dev.code);
        expect(json(packaged, `packaged ${what}`), what).toEqual(json(dev, `launcher ${what}`));
        expect(packaged.stderr).toBe(dev.stderr);
      }
      // Everything exists by now: a real restore changes nothing and says so.
      const { packaged } = await same(['restore', snapshot, '--storage', storage, '-o', 'json']);
      const report = JSON.parse(packaged.stdout) as {
        results: { kind: string; name: string; outcome: string }[];
      };
      expect(report.results.some((x) => x.outcome === 'created')).toBe(false);
      // Found by the lookup lists, whose pages the executable digests on its embedded worker.
      expect(report.results).toContainEqual(
        expect.objectContaining({
          kind: 'ConfigMap',
          name: 'settings',
          outcome: 'exists-identical',
        }),
      );
    });

    it('share S3 snapshots: the binary backs up to MinIO, the launcher verifies and lists it', async () => {
      const url = s3Url(uniqueName('krew-s3'));
      const b = await run(binary, ['backup', 'to-s3', '-n', ns, '--storage', url], env);
      expect(b.code, b.stderr).toBe(0);
      const v = await cli(['verify', 'to-s3', '--storage', url], {
        ...env,
        PATH: process.env.PATH,
      });
      expect(v.code, v.stderr).toBe(0);
      const { packaged, dev } = await same(['list', '--storage', url, '-o', 'json']);
      expect(packaged.code, packaged.stderr).toBe(0);
      expect(JSON.parse(packaged.stdout)).toEqual(JSON.parse(dev.stdout));
      expect(packaged.stdout).toContain('to-s3');
    });

    it('fail the same way on a usage error', async () => {
      const { packaged, dev } = await same(['restore']);
      expect(packaged.code).toBe(1);
      expect(packaged.code).toBe(dev.code);
      expect(packaged.stderr).toBe(dev.stderr);
    });
  });
});
