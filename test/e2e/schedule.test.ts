// Schedules end to end on a real control plane + MinIO: the manifests apply, the CronJob
// controller starts Jobs, and — the decisive part — the Job's own command, run with nothing
// but its ServiceAccount's token and the Secret's values, backs up the selected namespaces to
// MinIO and prunes, while that token can neither write nor read outside its namespaces.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArchive } from '../../src/archive/reader.js';
import type { SnapshotManifest } from '../../src/core/types.js';
import { configMap, create, cronJob, namespace, secret, serviceAccount } from './fixtures.js';
import {
  api,
  cli,
  cluster,
  kubeConfig,
  minio,
  s3Url,
  tempDir,
  uniqueName,
  until,
} from './helpers.js';
import { ownedBy, runContainer, serviceAccountToken, tokenKubeconfig } from './service-accounts.js';

const IMAGE_BINARY = '/kubectl-snapshot';
const LABEL = 'kubectl-snapshot/schedule';

// Namespaces: `app` is backed up, `other` is not; `ins` holds the schedules.
const app = uniqueName('sch-app');
const other = uniqueName('sch-other');
const ins = uniqueName('sch-ins');
const prefix = uniqueName('sched');
const storage = () => s3Url(prefix);

const core = () => api(k8s.CoreV1Api);
const batch = () => api(k8s.BatchV1Api);
const rbacApi = () => api(k8s.RbacAuthorizationV1Api);

const code = (err: unknown) =>
  (err as { code?: number; statusCode?: number }).code ??
  (err as { statusCode?: number }).statusCode;

async function snapshotsIn(pfx: string): Promise<SnapshotManifest[]> {
  const r = await cli(['list', '-o', 'json', '--storage', s3Url(pfx)]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as SnapshotManifest[];
}

async function getObject(key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await minio().getObject(cluster().s3.bucket, key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Copies a real snapshot under another name, with other times and labels (for prune). */
async function fakeSnapshot(
  from: SnapshotManifest,
  name: string,
  startedAt: Date,
  labels: Record<string, string>,
  expiresAt?: Date,
): Promise<void> {
  const { bucket } = cluster().s3;
  const mc = minio();
  const base = `${prefix}/snapshots`;
  const archive = await getObject(`${base}/${from.name}/resources.tar.gz`);
  const log = await getObject(`${base}/${from.name}/log.jsonl.gz`);
  await mc.putObject(bucket, `${base}/${name}/resources.tar.gz`, archive);
  await mc.putObject(bucket, `${base}/${name}/log.jsonl.gz`, log);
  const m: SnapshotManifest = {
    ...from,
    name,
    startedAt: startedAt.toISOString(),
    completedAt: new Date(startedAt.getTime() + 1000).toISOString(),
    labels,
    archive: { ...from.archive, key: `snapshots/${name}/resources.tar.gz` },
    log: { key: `snapshots/${name}/log.jsonl.gz` },
  };
  if (expiresAt) m.expiresAt = expiresAt.toISOString();
  else delete m.expiresAt;
  await mc.putObject(bucket, `${base}/${name}/snapshot.json`, Buffer.from(JSON.stringify(m)));
}

async function archiveEntries(pfx: string, name: string): Promise<string[]> {
  const names: string[] = [];
  const stream = await minio().getObject(
    cluster().s3.bucket,
    `${pfx}/snapshots/${name}/resources.tar.gz`,
  );
  await readArchive(stream, ({ name: n }) => {
    names.push(n);
  });
  return names;
}

/** Every object carrying a schedule's labels, as "Kind namespace/name". */
const owned = (name: string) => ownedBy(name, ins);

const createArgs = (name: string, cron: string, extra: string[] = []) => [
  'schedule',
  'create',
  name,
  '-n',
  app,
  '--schedule',
  cron,
  '--storage',
  storage(),
  '--install-namespace',
  ins,
  '--image',
  'registry.invalid/kubectl-snapshot:test',
  ...extra,
];

beforeAll(async () => {
  await create([
    namespace(app),
    namespace(other),
    configMap(app, 'settings', { mode: 'prod' }),
    secret(app, 'db', { password: 'app-secret' }),
    serviceAccount(app, 'worker'),
    configMap(other, 'unrelated'),
    secret(other, 'private', { password: 'other-secret' }),
  ]);
});

afterAll(async () => {
  for (const n of [app, other, ins])
    await core()
      .deleteNamespace({ name: n })
      .catch(() => {});
  for (const cr of (
    await rbacApi().listClusterRole({ labelSelector: `kubectl-snapshot/schedule-namespace=${ins}` })
  ).items)
    await rbacApi()
      .deleteClusterRole({ name: cr.metadata?.name as string })
      .catch(() => {});
  for (const b of (
    await rbacApi().listClusterRoleBinding({
      labelSelector: `kubectl-snapshot/schedule-namespace=${ins}`,
    })
  ).items)
    await rbacApi()
      .deleteClusterRoleBinding({ name: b.metadata?.name as string })
      .catch(() => {});
});

describe('schedule create: validation and dry run', () => {
  it('invalid cron, unknown time zone and a missing storage location are clear errors with nothing applied', async () => {
    const home = tempDir('ks-home-');
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        createArgs('bad', '0 2 * *'),
        {},
        /invalid cron schedule "0 2 \* \*": expected 5 fields, found 4/,
      ],
      [createArgs('bad', '0 0 * * 7'), {}, /outside 0-6 \(day of week\)/],
      [
        createArgs('bad', '0 2 * * *', ['--time-zone', 'Mars/Olympus']),
        {},
        /unknown time zone "Mars\/Olympus"/,
      ],
      [
        [
          'schedule',
          'create',
          'bad',
          '-n',
          app,
          '--schedule',
          '0 2 * * *',
          '--install-namespace',
          ins,
        ],
        { HOME: home },
        /no storage location given: a schedule needs S3 storage/,
      ],
      [
        [
          'schedule',
          'create',
          'bad',
          '-n',
          app,
          '--schedule',
          '0 2 * * *',
          '--install-namespace',
          ins,
          '--storage',
          'nowhere',
        ],
        { HOME: home },
        /no storage location named "nowhere"/,
      ],
      [
        createArgs('bad', '0 2 * * *').map((a) => (a === storage() ? join(home, 'dir') : a)),
        {},
        /is a directory: a scheduled backup runs in a Pod/,
      ],
      [
        createArgs('bad', '0 2 * * *'),
        { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', HOME: home },
        /no S3 credentials found/,
      ],
    ];
    for (const [args, env, message] of cases) {
      const r = await cli(args, env);
      expect(r.code, `${args.join(' ')}\n${r.stdout}`).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    // Nothing was applied: not even the install namespace.
    expect(
      code(
        await core()
          .readNamespace({ name: ins })
          .catch((e: unknown) => e),
      ),
    ).toBe(404);
    expect(await owned('bad')).toEqual([]);
  });

  it('--dry-run -o yaml prints every manifest, the Secret redacted, and applies nothing', async () => {
    const r = await cli([
      ...createArgs('preview', '0 2 * * *', ['--keep-last', '2']),
      '--dry-run',
      '-o',
      'yaml',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const docs = loadAll(r.stdout) as {
      kind: string;
      metadata: { name: string; namespace?: string };
      data?: Record<string, string>;
    }[];
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace ?? ''}`)).toEqual([
      'Namespace ',
      `ServiceAccount ${ins}`,
      `Secret ${ins}`,
      'ClusterRole ',
      'ClusterRoleBinding ',
      `Role ${app}`,
      `RoleBinding ${app}`,
      `CronJob ${ins}`,
    ]);
    expect(docs.find((d) => d.kind === 'Secret')?.data).toEqual({
      AWS_ACCESS_KEY_ID: '<redacted>',
      AWS_SECRET_ACCESS_KEY: '<redacted>',
    });
    expect(r.stdout).not.toContain(cluster().s3.secretKey);
    const json = await cli([...createArgs('preview', '0 2 * * *'), '--dry-run', '-o', 'json']);
    expect((JSON.parse(json.stdout) as { kind: string; items: unknown[] }).items).toHaveLength(8);
    expect(
      code(
        await core()
          .readNamespace({ name: ins })
          .catch((e: unknown) => e),
      ),
    ).toBe(404);
    expect(await owned('preview')).toEqual([]);
  });
});

describe('schedule delete of a CronJob that is not a schedule', () => {
  it('is an error naming it, and the CronJob stays', async () => {
    const ns = uniqueName('not-sched');
    await create([namespace(ns), cronJob(ns, 'nightly-report')]);
    const r = await cli(['schedule', 'delete', 'nightly-report', '--install-namespace', ns]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `error: CronJob nightly-report in namespace ${ns} is not a schedule (not made by kubectl snapshot schedule create); nothing was deleted\n  list the schedules with: kubectl snapshot schedule list\n`,
    );
    const left = await api(k8s.BatchV1Api).readNamespacedCronJob({
      name: 'nightly-report',
      namespace: ns,
    });
    expect(left.metadata?.name).toBe('nightly-report');
  });
});

describe('a schedule in the cluster', () => {
  const name = 'nightly';
  let seed: SnapshotManifest;
  let job: k8s.V1Job;

  it('schedule create applies cleanly, and again (converges); list, describe, suspend, resume', async () => {
    const r = await cli(
      createArgs(name, '0 2 * * *', [
        '--time-zone',
        'Europe/Berlin',
        '--keep-last',
        '2',
        '--ttl',
        '720h',
      ]),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`namespace/${ins} created`);
    expect(r.stdout).toMatch(/schedule nightly created in namespace .* \(next run \d{4}-/);
    const again = await cli(
      createArgs(name, '0 2 * * *', [
        '--time-zone',
        'Europe/Berlin',
        '--keep-last',
        '2',
        '--ttl',
        '720h',
      ]),
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('schedule nightly configured');

    const cron = await batch().readNamespacedCronJob({ name, namespace: ins });
    expect(cron.spec).toMatchObject({
      schedule: '0 2 * * *',
      timeZone: 'Europe/Berlin',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      suspend: false,
    });
    expect(await owned(name)).toEqual(
      [
        `ClusterRole /kubectl-snapshot:${ins}:${name}`,
        `ClusterRoleBinding /kubectl-snapshot:${ins}:${name}`,
        `CronJob ${ins}/${name}`,
        `Role ${app}/kubectl-snapshot:${ins}:${name}`,
        `RoleBinding ${app}/kubectl-snapshot:${ins}:${name}`,
        `Secret ${ins}/kubectl-snapshot-${name}`,
        `ServiceAccount ${ins}/kubectl-snapshot-${name}`,
      ].sort(),
    );
    // Read-only everywhere.
    const roles = [
      ...(
        await rbacApi().listRoleForAllNamespaces({
          labelSelector: `kubectl-snapshot/schedule=${name},kubectl-snapshot/schedule-namespace=${ins}`,
        })
      ).items,
      ...(
        await rbacApi().listClusterRole({
          labelSelector: `kubectl-snapshot/schedule=${name},kubectl-snapshot/schedule-namespace=${ins}`,
        })
      ).items,
    ];
    const verbs = new Set(roles.flatMap((x) => (x.rules ?? []).flatMap((rule) => rule.verbs)));
    expect([...verbs].sort()).toEqual(['get', 'list']);

    const list = await cli(['schedule', 'list', '--install-namespace', ins, '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject([
      {
        name,
        schedule: '0 2 * * *',
        timeZone: 'Europe/Berlin',
        suspended: false,
        storage: expect.stringContaining(prefix),
      },
    ]);
    const table = await cli(['schedule', 'list', '--install-namespace', ins]);
    expect(table.stdout).toMatch(/^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND/);

    expect((await cli(['schedule', 'suspend', name, '--install-namespace', ins])).code).toBe(0);
    expect((await batch().readNamespacedCronJob({ name, namespace: ins })).spec?.suspend).toBe(
      true,
    );
    const described = await cli(['schedule', 'describe', name, '--install-namespace', ins]);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toMatch(/Suspended:\s+true/);
    expect(described.stdout).toContain(`get namespaces (only ${app})`);
    expect((await cli(['schedule', 'resume', name, '--install-namespace', ins])).code).toBe(0);
    expect((await batch().readNamespacedCronJob({ name, namespace: ins })).spec?.suspend).toBe(
      false,
    );

    // A CronJob that is not a schedule is never taken over.
    await create([cronJob(ins, 'foreign', '0 3 * * *')]);
    const taken = await cli(createArgs('foreign', '0 2 * * *'));
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/exists that is not a kubectl-snapshot schedule/);
    const foreign = await batch().readNamespacedCronJob({ name: 'foreign', namespace: ins });
    expect(foreign.spec?.schedule).toBe('0 3 * * *');
    expect(await owned('foreign')).toEqual([]);
  });

  it('schedule run creates a Job from the CronJob, as kubectl create job --from does', async () => {
    const r = await cli(['schedule', 'run', name, '--install-namespace', ins, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const created = JSON.parse(r.stdout) as k8s.V1Job;
    job = await batch().readNamespacedJob({
      name: created.metadata?.name as string,
      namespace: ins,
    });
    const cron = await batch().readNamespacedCronJob({ name, namespace: ins });
    expect(job.metadata?.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(job.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'CronJob', name, uid: cron.metadata?.uid, controller: true }),
    ]);
    expect(job.metadata?.labels?.[LABEL]).toBe(name);
    expect(job.spec?.template.spec?.serviceAccountName).toBe(`kubectl-snapshot-${name}`);
  });

  it("the decisive one: the Job's command with only its ServiceAccount token backs up the namespace to MinIO and prunes", {
    timeout: 180_000,
  }, async () => {
    // Older snapshots for prune to work on: copies of a real one with other times and labels.
    const b = await cli(['backup', 'seed', '-n', app, '--storage', storage(), '-o', 'json']);
    expect(b.code, b.stderr).toBe(0);
    seed = JSON.parse(b.stdout) as SnapshotManifest;
    const now = Date.now();
    const hours = (h: number) => new Date(now - h * 3_600_000);
    const mine = { [LABEL]: name };
    await fakeSnapshot(seed, `${name}-old-1`, hours(72), mine);
    await fakeSnapshot(seed, `${name}-old-2`, hours(48), mine);
    await fakeSnapshot(seed, `${name}-old-3`, hours(24), mine);
    // Newer than old-3, so keep-last 2 would keep it: it goes because it expired.
    await fakeSnapshot(seed, `${name}-expired`, hours(1), mine, new Date(now - 60_000));
    await fakeSnapshot(seed, 'weekly-old', hours(96), { [LABEL]: 'weekly' });

    const token = await serviceAccountToken(ins, `kubectl-snapshot-${name}`);
    const saKubeconfig = tokenKubeconfig(token);
    const r = await runContainer(job, { KUBECONFIG: saKubeconfig });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);

    const all = await snapshotsIn(prefix);
    const byName = new Map(all.map((m) => [m.name, m]));
    const made = all.filter((m) => new RegExp(`^${name}-\\d{8}-\\d{6}$`).test(m.name));
    expect(made).toHaveLength(1);
    const m = made[0] as SnapshotManifest;
    expect(m.labels).toEqual({ [LABEL]: name });
    expect(m.namespaces).toEqual([app]);
    expect(m.warnings).toEqual([]); // every read the backup needed was granted
    expect(m.expiresAt).toBeDefined();
    expect(Date.parse(m.expiresAt as string) - Date.parse(m.startedAt)).toBe(720 * 3_600_000);
    const entries = await archiveEntries(prefix, m.name);
    expect(entries).toContain(`resources/configmaps/namespaces/${app}/settings.json`);
    expect(entries).toContain(`resources/secrets/namespaces/${app}/db.json`);
    expect(entries).toContain(`resources/namespaces/cluster/${app}.json`);
    expect(entries.filter((e) => e.includes(other))).toEqual([]);

    // keep-last 2 among the schedule's unexpired snapshots; other snapshots untouched.
    expect(byName.has(`${name}-old-3`)).toBe(true);
    for (const gone of [`${name}-old-1`, `${name}-old-2`, `${name}-expired`])
      expect(byName.has(gone), gone).toBe(false);
    expect(byName.has('seed')).toBe(true);
    expect(byName.has('weekly-old')).toBe(true);
    expect(r.stdout).toMatch(new RegExp(`${name}-expired\\s+\\S+\\s+removed\\s+expired at`));
    expect(r.stdout).toMatch(
      new RegExp(`${name}-old-1\\s+\\S+\\s+removed\\s+not kept by keep-last 2`),
    );

    // The same token: denied writing, and denied Secrets in a namespace the schedule does not cover.
    const asSa = api(k8s.CoreV1Api, saKubeconfig);
    const denied = async (p: Promise<unknown>) =>
      code(
        await p.then(
          () => 'allowed',
          (e: unknown) => e,
        ),
      );
    expect(
      await denied(
        asSa.createNamespacedConfigMap({ namespace: app, body: { metadata: { name: 'x' } } }),
      ),
    ).toBe(403);
    expect(await denied(asSa.deleteNamespacedConfigMap({ name: 'settings', namespace: app }))).toBe(
      403,
    );
    expect(await denied(asSa.listNamespacedSecret({ namespace: other }))).toBe(403);
    expect(await denied(asSa.readNamespacedSecret({ name: 'private', namespace: other }))).toBe(
      403,
    );
    expect(
      await denied(asSa.readNamespacedSecret({ name: `kubectl-snapshot-${name}`, namespace: ins })),
    ).toBe(403);
    // …while reading what it backs up is allowed (so the 403s above are about scope).
    expect(
      (await asSa.listNamespacedSecret({ namespace: app })).items.map((s) => s.metadata?.name),
    ).toContain('db');
  });

  const canUnshare = spawnSync('unshare', ['-rm', 'true']).status === 0;
  it.skipIf(!canUnshare)(
    'in a Pod the binary needs no flags: in-cluster config from the mounted ServiceAccount files (needs unshare)',
    { timeout: 120_000 },
    async () => {
      const token = await serviceAccountToken(ins, `kubectl-snapshot-${name}`);
      const ca = Buffer.from(
        kubeConfig().getCurrentCluster()?.caData as string,
        'base64',
      ).toString();
      // Scheduled snapshots are named to the second, and the run before this one may have
      // been less than a second ago: the same name would (rightly) be refused as existing.
      await new Promise((r) => setTimeout(r, 1100));
      const r = await runContainer(job, { inCluster: { token, ca, namespace: ins } });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/Snapshot nightly-\d{8}-\d{6} completed/);
      expect(r.stdout).not.toMatch(/warning/);
      const made = (await snapshotsIn(prefix)).filter((m) =>
        new RegExp(`^${name}-\\d{8}-\\d{6}$`).test(m.name),
      );
      // keep-last 2: the two scheduled runs; old-3 is gone now.
      expect(made).toHaveLength(2);
      expect((await snapshotsIn(prefix)).some((m) => m.name === `${name}-old-3`)).toBe(false);
    },
  );

  it('schedule list shows the last snapshot; prune on the command line honours --schedule and --dry-run', async () => {
    const list = await cli(['schedule', 'list', '--install-namespace', ins, '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    const [info] = JSON.parse(list.stdout) as { lastSnapshot?: { name: string } }[];
    expect(info?.lastSnapshot?.name).toMatch(new RegExp(`^${name}-\\d{8}-\\d{6}$`));

    const dry = await cli([
      'prune',
      '--storage',
      storage(),
      '--schedule',
      'weekly',
      '--keep-last',
      '0',
      '--expired',
      '--dry-run',
      '-o',
      'json',
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      considered: 1,
      dryRun: true,
      remove: [],
      deleted: [],
    });
    const none = await cli(['prune', '--storage', storage()]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no retention policy given/);
    const real = await cli([
      'prune',
      '--storage',
      storage(),
      '-l',
      `${LABEL}=weekly`,
      '--keep-daily',
      '1',
      '--time-zone',
      'UTC',
    ]);
    expect(real.code, real.stderr).toBe(0);
    expect((await snapshotsIn(prefix)).some((m) => m.name === 'weekly-old')).toBe(true);
  });
});

describe('an encrypted schedule', () => {
  it('encrypts to the recipient; the cluster holds no key that decrypts; the identity does', {
    timeout: 120_000,
  }, async () => {
    const age = await import('age-encryption');
    const identity = await age.generateIdentity();
    const recipient = await age.identityToRecipient(identity);
    const name = 'sealed';
    const pfx = uniqueName('sealed');
    const args = createArgs(name, '0 3 * * *', ['--encrypt-to', recipient, '--keep-last', '3']).map(
      (a) => (a === storage() ? s3Url(pfx) : a),
    );
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(0);
    const run = await cli(['schedule', 'run', name, '--install-namespace', ins, '-o', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const job = await batch().readNamespacedJob({
      name: (JSON.parse(run.stdout) as k8s.V1Job).metadata?.name as string,
      namespace: ins,
    });
    const token = await serviceAccountToken(ins, `kubectl-snapshot-${name}`);
    const out = await runContainer(job, { KUBECONFIG: tokenKubeconfig(token) });
    expect(out.code, `${out.stdout}\n${out.stderr}`).toBe(0);
    expect(out.stderr).not.toMatch(/stored unencrypted/);

    const [m] = await snapshotsIn(pfx);
    expect(m?.archive.encrypted).toBe(true);
    // Nothing in the cluster can decrypt: the recipient is public, no identity is stored.
    const everything = JSON.stringify([
      await batch().readNamespacedCronJob({ name, namespace: ins }),
      await core().readNamespacedSecret({ name: `kubectl-snapshot-${name}`, namespace: ins }),
    ]);
    expect(everything).toContain(recipient);
    expect(everything).not.toContain(identity);
    expect(everything).not.toContain(Buffer.from(identity).toString('base64'));
    const idFile = join(tempDir('ks-id-'), 'key.txt');
    writeFileSync(idFile, `${identity}\n`, { mode: 0o600 });
    const verify = await cli([
      'verify',
      m?.name as string,
      '--storage',
      s3Url(pfx),
      '--identity-file',
      idFile,
    ]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/intact/);

    expect((await cli(['schedule', 'delete', name, '--install-namespace', ins])).code).toBe(0);
  });
});

describe('the CronJob controller runs a schedule; delete removes everything', () => {
  it('an every-minute schedule gets a Job from the controller; schedule delete leaves nothing behind', {
    timeout: 240_000,
  }, async () => {
    const name = 'every-minute';
    const r = await cli(createArgs(name, '* * * * *', ['--keep-daily', '7']));
    expect(r.code, r.stderr).toBe(0);
    const job = await until(
      'a Job started by the CronJob controller',
      async () =>
        (
          await batch().listNamespacedJob({ namespace: ins, labelSelector: `${LABEL}=${name}` })
        ).items.find(
          (j) =>
            j.metadata?.ownerReferences?.some((o) => o.kind === 'CronJob' && o.name === name) &&
            j.metadata?.annotations?.['cronjob.kubernetes.io/instantiate'] !== 'manual',
        ),
      150_000,
      2000,
    );
    const c = job.spec?.template.spec?.containers[0];
    expect(c?.command).toEqual([IMAGE_BINARY]);
    expect(c?.args?.slice(0, 3)).toEqual(['schedule', 'exec', name]);

    const del = await cli(['schedule', 'delete', name, '--install-namespace', ins]);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toContain(`schedule ${name} deleted`);
    // Jobs and Pods go through garbage collection; wait for them.
    await until(
      'every object of the schedule to be gone',
      async () => (await owned(name)).length === 0,
      90_000,
      500,
    );
    const again = await cli(['schedule', 'delete', name, '--install-namespace', ins]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/schedule "every-minute" in namespace .* not found/);

    // The other schedule is untouched.
    expect((await owned('nightly')).some((o) => o.startsWith('CronJob'))).toBe(true);
    const delNightly = await cli(['schedule', 'delete', 'nightly', '--install-namespace', ins]);
    expect(delNightly.code, delNightly.stderr).toBe(0);
    await until(
      'nightly to be gone',
      async () => (await owned('nightly')).length === 0,
      90_000,
      500,
    );
    // Snapshots stay where they are.
    expect((await snapshotsIn(prefix)).length).toBeGreaterThan(0);
  });
});
