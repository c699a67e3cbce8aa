// Backups of ours that Velero restores (`backup --format velero`), end to end: we back up a
// namespace with a CRD and custom resources into the bucket the real Velero v1.17.2 server
// watches; the velero CLI (a client other than ours) shows it Completed after the backup sync,
// `velero restore create` brings the deleted namespace back, and kubectl finds every object as
// it was. Our own restore of the same backup works too.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/core/types.js';
import { diffObjects, normalizeForCompare } from '../../src/restore/normalize.js';
import {
  buildVeleroBinaries,
  startVelero,
  VELERO_NAMESPACE,
  type Velero,
  type VeleroBinaries,
} from '../cluster/velero.js';
import {
  configMap,
  crd,
  create,
  customResource,
  deployment,
  namespace,
  type Obj,
  waitEstablished,
} from './fixtures.js';
import {
  cli,
  cluster,
  objects,
  readOptional,
  s3Url,
  tempDir,
  uniqueName,
  until,
} from './helpers.js';

const execFileP = promisify(execFile);

function passphraseFile(): string {
  const f = join(tempDir('ks-pass-'), 'passphrase');
  writeFileSync(f, 'correct horse battery staple\n', { mode: 0o600 });
  return f;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** HOME of kubectl and velero: their discovery caches go there, not into the working directory. */
const home = tempDir('ks-velero-home-');

async function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileP(file, args, {
      env: { PATH: process.env.PATH, HOME: home, ...env },
      maxBuffer: 1 << 26,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** kubectl's view of an object (the check is made with a client other than ours). */
async function kubectlGet(o: Obj): Promise<KubeObject | undefined> {
  const c = cluster();
  const apiVersion = o.apiVersion ?? 'v1';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const type = group ? `${o.kind}.${version}.${group}` : (o.kind as string);
  const ns = o.metadata?.namespace ? ['-n', o.metadata.namespace] : [];
  const r = await run(`${c.binDir}/kubectl`, [
    '--kubeconfig',
    c.kubeconfig,
    'get',
    type,
    o.metadata?.name as string,
    ...ns,
    '-o',
    'json',
    '--ignore-not-found',
  ]);
  if (r.code !== 0) throw new Error(`kubectl get ${type}: ${r.stderr}`);
  return r.stdout.trim() === '' ? undefined : (JSON.parse(r.stdout) as KubeObject);
}

describe('a backup of ours in Velero format, restored by Velero', () => {
  const ns = uniqueName('vw');
  const group = `${ns}.example.com`;
  const prefix = uniqueName('velero-bsl');
  // Our location URL for the bucket and prefix Velero's BackupStorageLocation points at.
  const ours = s3Url(prefix);
  const asVelero = `${ours}&layout=velero`;
  const backup = `${ns}-b1`;
  const widgets = crd(group, 'Widget', 'widgets');
  const app: Obj[] = [
    configMap(ns, 'settings', { 'app.yaml': 'replicas: 2\n' }),
    deployment(ns, 'web', 1),
    customResource(group, 'Widget', ns, 'w1', { size: 3 }),
    customResource(group, 'Widget', ns, 'w2', { size: 5, color: 'blue' }),
  ];
  let originals: Obj[] = [];
  let velero: Velero | undefined;
  let binaries: VeleroBinaries;
  let home: string;
  const veleroCli = (args: string[]) =>
    run(binaries.velero, ['--kubeconfig', cluster().kubeconfig, '-n', VELERO_NAMESPACE, ...args], {
      HOME: home,
    });

  const deleteAll = async () => {
    await objects().delete(namespace(ns));
    await until(
      'the namespace to be deleted',
      async () => !(await readOptional(namespace(ns))),
      120_000,
    );
    await objects().delete(widgets);
    await until('the CRD to be deleted', async () => !(await readOptional(widgets)));
  };

  const expectOriginals = async () => {
    for (const original of originals) {
      const now = await until(`${original.kind} ${original.metadata?.name}`, () =>
        kubectlGet(original),
      );
      expect(
        diffObjects(normalizeForCompare(original as KubeObject), normalizeForCompare(now)),
        `${original.kind}/${original.metadata?.name}`,
      ).toEqual([]);
    }
  };

  beforeAll(async () => {
    // Before Velero starts: it reads discovery once at start (see velero.test.ts).
    await create([namespace(ns, { team: 'e2e' }), widgets]);
    await waitEstablished(`widgets.${group}`);
    const c = cluster();
    binaries = buildVeleroBinaries((l) => console.error(`[velero] ${l}`));
    home = tempDir('ks-velero-home-');
    velero = await startVelero({
      kubeconfig: c.kubeconfig,
      kubectl: `${c.binDir}/kubectl`,
      s3: { ...c.s3 },
      workDir: tempDir('ks-velero-'),
      binaries,
      prefix,
      // Velero looks once a minute (fixed in v1.17); with this each look imports.
      backupSyncPeriod: '2s',
      log: (l) => console.error(`[velero] ${l}`),
    });
    await create(app);
    // As kubectl shows them (the CRD with its defaults, in the wire's field names): what a
    // restore must bring back.
    originals = [];
    for (const o of [widgets, ...app]) originals.push((await kubectlGet(o)) as Obj);
  }, 600_000);

  afterAll(async () => {
    await velero?.stop();
  });

  it('is written with --format velero, and the velero CLI shows it Completed after the backup sync', async () => {
    const b = await cli(['backup', backup, '-n', ns, '--format', 'velero', '--storage', ours]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(new RegExp(`Snapshot ${backup} completed`));
    expect(b.stderr).toContain('layout=velero');

    const got = await until(
      `velero backup get ${backup} to show it Completed (velero log: ${velero?.logFile})`,
      async () => {
        const r = await veleroCli(['backup', 'get', backup]);
        return r.code === 0 && /\bCompleted\b/.test(r.stdout) ? r : undefined;
      },
      120_000,
    );
    expect(got.stdout).toMatch(new RegExp(`^${backup}\\s+Completed\\s+0\\s+0\\s`, 'm'));
    const json = await veleroCli(['backup', 'get', backup, '-o', 'json']);
    const synced = JSON.parse(json.stdout) as {
      spec: { includedNamespaces: string[]; ttl: string };
      status: { formatVersion: string; expiration: string };
    };
    expect(synced.spec).toMatchObject({ includedNamespaces: [ns], ttl: '720h0m0s' });
    expect(synced.status.formatVersion).toBe('1.1.0');
  }, 180_000);

  it("has a resource list and a log that Velero's describe and logs show", async () => {
    const d = await veleroCli(['backup', 'describe', backup, '--details']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(new RegExp(`apps/v1/Deployment:\\s*\\n\\s*- ${ns}/web`));
    expect(d.stdout).toMatch(
      new RegExp(`${group}/v1/Widget:\\s*\\n\\s*- ${ns}/w1\\s*\\n\\s*- ${ns}/w2`),
    );
    const logs = await veleroCli(['backup', 'logs', backup]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/level=info msg="listed" resource=configmaps namespace=/);
  });

  it('is listed by us as a Velero backup, with its CRD and custom resources', async () => {
    const l = await cli(['list', '--storage', asVelero]);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toMatch(new RegExp(`^${backup}\\s+Completed\\s`, 'm'));
    const d = await cli(['describe', backup, '--storage', asVelero, '-o', 'json']);
    expect(d.code, d.stderr).toBe(0);
    const m = JSON.parse(d.stdout) as {
      resources: { resource: string; count: number }[];
      velero: { preferredVersions: boolean };
    };
    const count = (r: string) => m.resources.find((x) => x.resource === r)?.count;
    expect(count(`widgets.${group}`)).toBe(2);
    expect(count('customresourcedefinitions.apiextensions.k8s.io')).toBe(1);
    expect(count('deployments.apps')).toBe(1);
    expect(m.velero.preferredVersions).toBe(true);
  });

  it('is restored by velero restore create into a deleted namespace, every object as it was', async () => {
    await deleteAll();
    const restore = `${backup}-r1`;
    const r = await veleroCli(['restore', 'create', restore, '--from-backup', backup, '--wait']);
    expect(r.code, r.stderr).toBe(0);
    const status = JSON.parse(
      (await veleroCli(['restore', 'get', restore, '-o', 'json'])).stdout,
    ) as {
      status: { phase: string; errors?: number };
    };
    if (status.status.phase !== 'Completed')
      console.error((await veleroCli(['restore', 'describe', restore, '--details'])).stdout);
    expect(status.status).toMatchObject({ phase: 'Completed' });
    expect(status.status.errors ?? 0).toBe(0);
    await expectOriginals();
  }, 300_000);

  it('is restored by our own restore too', async () => {
    await deleteAll();
    const r = await cli(['restore', backup, '--storage', asVelero, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { totals: Record<string, number> }).totals.failed).toBe(0);
    await expectOriginals();
  }, 300_000);

  it('refuses encryption for Velero format, saying Velero could not read it', async () => {
    for (const args of [
      ['--format', 'velero', '--storage', ours, '--encrypt-to', `age1${'q'.repeat(58)}`],
      ['--storage', asVelero, '--encrypt-passphrase-file', passphraseFile()],
    ]) {
      const r = await cli(['backup', `${ns}-enc`, '-n', ns, ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'error: a backup in Velero format cannot be encrypted: Velero could not read it',
      );
      expect(r.stderr).toMatch(/drop --encrypt-to/);
    }
    const l = await cli(['list', '--storage', asVelero, '-o', 'json']);
    expect(l.stdout).not.toContain(`${ns}-enc`);
  });
});
