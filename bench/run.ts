// `npm run bench -- --objects 20000 [--namespaces 10] [--runs 3]`
// Backup and restore throughput and peak memory against baselines measured in the same run,
// against the same control plane: the API server's own limit (raw paginated LIST, raw
// parallel creates with the same client) and kubectl. Prints a markdown table and writes
// bench/results/latest.json.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LIST_CONCURRENCY, LIST_PAGE_SIZE } from '../src/backup/run.js';
import { listableTypes, planListJobs } from '../src/backup/select.js';
import { parseJson } from '../src/core/json.js';
import { mapLimit } from '../src/core/pool.js';
import type { Selection } from '../src/core/types.js';
import { KubeClient } from '../src/kube/client.js';
import { collectionPath, discover } from '../src/kube/discovery.js';
import { planRestore } from '../src/restore/plan.js';
import { loadSnapshot } from '../src/restore/snapshot.js';
import { SnapshotRepository } from '../src/snapshots/repository.js';
import { FsStore } from '../src/storage/fs.js';
import { startCluster } from '../test/cluster/harness.js';
import {
  buildVeleroBinaries,
  findVeleroBinaries,
  startVelero,
  type VeleroBinaries,
  type VeleroResult,
} from '../test/cluster/velero.js';
import { benchNamespaces, type Payload, populate } from './generate.js';

const execFileP = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const launcher = join(root, 'bin', 'kubectl-snapshot');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const N = arg('objects', 5000);
const M = arg('namespaces', 10);
const RUNS = arg('runs', 3);
/** `--payload random` for the incompressible objects of earlier rounds; realistic by default. */
const PAYLOAD: Payload =
  process.argv.includes('random') && process.argv.includes('--payload') ? 'random' : 'realistic';
// Velero comparison (test/cluster/velero.ts): --velero forces it (building Velero if needed),
// --no-velero skips it; by default it runs only when the Velero binaries are already cached.
/** `--no-kubectl` leaves out the kubectl baselines (slow and memory-hungry at 50,000 objects). */
const KUBECTL = !process.argv.includes('--no-kubectl');
const VELERO = process.argv.includes('--velero')
  ? true
  : process.argv.includes('--no-velero')
    ? false
    : undefined;

interface Sample {
  seconds: number;
  objects: number;
  peakRssMiB?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Runs a command and records its peak RSS (VmHWM) by polling /proc while it runs. */
async function measureProcess(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ seconds: number; peakRssMiB: number; stdout: string }> {
  const started = process.hrtime.bigint();
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => {
    stdout += c;
  });
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  let peak = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      // exited
    }
  }, 20);
  const code: number = await new Promise((r) => child.on('exit', (c) => r(c ?? 1)));
  clearInterval(poll);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0 && code !== 2)
    throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`);
  return { seconds, peakRssMiB: peak / 1024, stdout };
}

/**
 * Deletes namespaces and waits until they are gone: every create measurement then starts from
 * the same cluster (creates get slower as etcd fills, which would favour whatever runs first).
 */
async function dropNamespaces(client: KubeClient, names: string[]): Promise<void> {
  await Promise.all(
    names.map((n) => client.request('DELETE', `/api/v1/namespaces/${n}`).catch(() => {})),
  );
  for (let i = 0; i < 1800; i++) {
    const left = await Promise.all(names.map((n) => client.getOptional(`/api/v1/namespaces/${n}`)));
    if (left.every((x) => x === undefined)) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`namespaces ${names.join(', ')} still exist after 30 minutes`);
}

const CLOCK_TICKS =
  Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds the control plane's processes have used so far (Linux /proc). */
function controlPlaneCpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // After the command name (which may hold spaces): utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks / CLOCK_TICKS;
}

/**
 * Waits until the control plane is quiet, under 10 % of one CPU for a whole second, so that a
 * measurement does not pay for work an earlier one left behind: the namespace controller
 * deleting thousands of objects, the garbage collector taking in thousands of new ones. On two
 * cores that work took half the CPU of a 20,000-object skip-path restore. At most 2 minutes.
 */
async function quietControlPlane(pids: readonly number[]): Promise<void> {
  const started = Date.now();
  let before = controlPlaneCpuSeconds(pids);
  while (Date.now() - started < 120_000) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = controlPlaneCpuSeconds(pids);
    if (now - before < 0.1) break;
    before = now;
  }
  const waited = (Date.now() - started) / 1000;
  if (waited > 1.5) console.error(`  (waited ${waited.toFixed(0)} s for a quiet control plane)`);
}

/** Waits until the Deployment controller has made a ReplicaSet for each Deployment. */
async function replicaSetsSettled(
  client: KubeClient,
  namespaces: string[],
  deployments: number,
): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    let rs = 0;
    for (const ns of namespaces) {
      for await (const page of client.listPages(`/apis/apps/v1/namespaces/${ns}/replicasets`))
        rs += page.length;
    }
    if (rs >= deployments) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Every LIST page of the backup's jobs as the API server sent it (bytes), for parse timings. */
async function rawListPages(
  client: KubeClient,
  jobs: { type: Parameters<typeof collectionPath>[0]; namespace?: string }[],
): Promise<string[]> {
  const pages: string[] = [];
  for (const job of jobs) {
    const path = collectionPath(job.type, job.namespace);
    for await (const page of client.listPagesDecoded(path, LIST_PAGE_SIZE, async (body) => {
      const text = body.toString('utf8');
      const cont = (JSON.parse(text) as { metadata?: { continue?: string } }).metadata?.continue;
      return cont ? { page: text, continue: cont } : { page: text };
    }))
      pages.push(page);
  }
  return pages;
}

function namespacedOnly<T extends { namespace?: string }>(planned: T[]): T[] {
  return planned.filter((p) => p.namespace !== undefined);
}

/** Median wall time of parsing every page with `parse`, in ms. */
function parseMs(pages: readonly string[], parse: (t: string) => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    for (const p of pages) parse(p);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(times);
}

async function main(): Promise<void> {
  console.error(`bench: ${N} ${PAYLOAD} objects across ${M} namespaces, ${RUNS} runs each`);
  let veleroBins: VeleroBinaries | undefined;
  {
    const found = findVeleroBinaries();
    if (VELERO === false) console.error('  velero comparison: off (--no-velero)');
    else if ('velero' in found) veleroBins = found;
    else if (VELERO) veleroBins = buildVeleroBinaries((l) => console.error(`  ${l}`));
    else console.error(`  velero comparison: off (${found.missing}; or pass --velero)`);
  }
  const cluster = await startCluster({ log: (l) => console.error(`  ${l}`) });
  const results: Record<string, Sample[]> = {};
  const record = (k: string, s: Sample) => {
    results[k] = [...(results[k] ?? []), s];
    console.error(
      `  ${k}: ${s.objects} objects in ${s.seconds.toFixed(2)}s${s.peakRssMiB ? `, peak RSS ${s.peakRssMiB.toFixed(0)} MiB` : ''}`,
    );
  };
  // Before every measurement: what an earlier one left the control plane doing is not ours.
  const quiet = () => quietControlPlane(cluster.pids);
  try {
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfig };
    const client = KubeClient.connect({ kubeconfig: cluster.kubeconfig }, 32);
    const namespaces = benchNamespaces(M);
    const t0 = Date.now();
    const generated = await populate(client, N, namespaces, PAYLOAD);
    // The Deployment controller adds a ReplicaSet per Deployment; let it finish, so every
    // listing run sees the same objects.
    const deployments = generated.filter((g) => g.object.kind === 'Deployment').length;
    await replicaSetsSettled(client, namespaces, deployments);
    console.error(
      `  populated ${generated.length} objects in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
    );
    const rawJsonBytes = generated.reduce(
      (s, g) => s + Buffer.byteLength(JSON.stringify(g.object)),
      0,
    );

    const selection: Selection = {
      namespaces,
      allNamespaces: false,
      excludeNamespaces: [],
      includeResources: [],
      excludeResources: [],
      includeClusterResources: 'auto',
    };
    const types = listableTypes((await discover(client)).types, selection);
    const nsFlags = namespaces.flatMap((n) => ['-n', n]);
    // What lossless JSON costs: backup and the skip path parse these same pages (the skip
    // path in its worker), so the difference is their added CPU time. The slow path is timed
    // on the same pages with an int64 in each, as a custom resource holding one would be.
    const pages = await rawListPages(client, planListJobs(types, selection, namespaces));
    const withInt64 = pages.map((p) =>
      p.replace('"metadata":{', '"n":9223372036854775807,"metadata":{'),
    );
    const jsonCost = {
      bytes: pages.reduce((s, p) => s + p.length, 0),
      plainMs: parseMs(pages, (t) => JSON.parse(t)),
      losslessMs: parseMs(pages, parseJson),
      slowPathMs: parseMs(withInt64, parseJson),
    };
    console.error(
      `  parse of ${pages.length} LIST pages (${(jsonCost.bytes / 1048576).toFixed(1)} MiB): JSON.parse ${jsonCost.plainMs.toFixed(0)} ms, lossless ${jsonCost.losslessMs.toFixed(0)} ms, with an int64 per page ${jsonCost.slowPathMs.toFixed(0)} ms`,
    );
    const store = join(cluster.dir, 'bench-store');

    for (let run = 0; run < RUNS; run++) {
      // The limit for backup: the same paginated LISTs with the same client, nothing else.
      {
        await quiet();
        const started = process.hrtime.bigint();
        let count = 0;
        const c = KubeClient.connect({ kubeconfig: cluster.kubeconfig }, 32);
        await mapLimit(
          planListJobs(types, selection, namespaces),
          LIST_CONCURRENCY,
          async (job) => {
            for await (const page of c.listPages(
              collectionPath(job.type, job.namespace),
              {},
              LIST_PAGE_SIZE,
            ))
              count += page.length;
          },
        );
        record('list (raw API)', {
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
          objects: count,
        });
      }
      // kubectl get -o json, once per resource type across all namespaces.
      if (KUBECTL) {
        await quiet();
        const started = process.hrtime.bigint();
        let count = 0;
        const kubectl = join(cluster.binDir, 'kubectl');
        for (const t of types.filter((x) => x.namespaced)) {
          const name = t.group ? `${t.resource}.${t.group}` : t.resource;
          const { stdout } = await execFileP(kubectl, ['get', name, '-A', '-o', 'json'], {
            env,
            maxBuffer: 1 << 30,
          });
          count += (JSON.parse(stdout) as { items: unknown[] }).items.length;
        }
        record('kubectl get -o json', {
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
          objects: count,
        });
      }
      // kubectl-snapshot backup, as a user runs it.
      const name = `bench-${run}`;
      {
        await quiet();
        const m = await measureProcess(
          launcher,
          ['backup', name, ...nsFlags, '--storage', store, '-o', 'json'],
          env,
        );
        const manifest = JSON.parse(m.stdout) as {
          totalObjects: number;
          archive: { size: number };
        };
        record('kubectl-snapshot backup', {
          seconds: m.seconds,
          objects: manifest.totalObjects,
          peakRssMiB: m.peakRssMiB,
        });
        results.archive = [{ seconds: 0, objects: manifest.archive.size }];
      }
    }

    // Every listing run above saw the same cluster; restores come after, since they add copies.
    for (let run = 0; run < RUNS; run++) {
      const name = `bench-${run}`;
      // Restores go into fresh namespaces each time (namespace mapping), so every one starts empty.
      const snap = await loadSnapshot(new SnapshotRepository(new FsStore(store)), name);
      const mapping = (suffix: string) => new Map(namespaces.map((n) => [n, `${n}-${suffix}`]));
      const planDefaults = {
        namespaces: [],
        includeResources: [],
        excludeResources: [],
        includeClusterResources: 'auto' as const,
        preserveNodePorts: false,
      };
      // The limit for restore: raw parallel creates of the same sanitised objects, same client.
      {
        const plan = planRestore(snap.objects, { ...planDefaults, mapping: mapping(`raw${run}`) });
        const c = KubeClient.connect({ kubeconfig: cluster.kubeconfig }, 16);
        await quiet();
        const started = process.hrtime.bigint();
        let count = 0;
        for (const ns of plan.namespaces)
          await c.request('POST', collectionPath(ns.type), { body: await ns.materialize() });
        // The copies go into new namespaces; cluster-scoped objects of the closure (the
        // ClusterRoles the RoleBindings name) exist already and are the same for every copy.
        for (const tier of plan.tiers) {
          await mapLimit(namespacedOnly(tier), 16, async (p) => {
            await c.request('POST', collectionPath(p.type, p.namespace), {
              body: await p.materialize(),
            });
            count++;
          });
        }
        record('create (raw API, parallel)', {
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
          objects: count + plan.namespaces.length,
        });
        await dropNamespaces(c, [...mapping(`raw${run}`).values()]);

        // kubectl create -f of the same manifests.
        if (KUBECTL) {
          const file = join(cluster.dir, `bench-manifests-${run}.json`);
          const kplan = planRestore(snap.objects, {
            ...planDefaults,
            mapping: mapping(`kubectl${run}`),
          });
          // Written item by item: 50,000 objects are more than one JavaScript string can hold.
          const planned = [...kplan.namespaces, ...namespacedOnly(kplan.tiers.flat())];
          const fd = openSync(file, 'w');
          writeSync(fd, '{"apiVersion":"v1","kind":"List","items":[');
          for (const [i, p] of planned.entries()) {
            writeSync(fd, `${i ? ',' : ''}${JSON.stringify(await p.materialize())}`);
          }
          writeSync(fd, ']}');
          closeSync(fd);
          const items = planned;
          await snap.close();
          await quiet();
          const k = await measureProcess(
            join(cluster.binDir, 'kubectl'),
            ['create', '-f', file, '-o', 'name'],
            env,
          );
          record('kubectl create -f', {
            seconds: k.seconds,
            objects: items.length,
            peakRssMiB: k.peakRssMiB,
          });
          await dropNamespaces(c, [...mapping(`kubectl${run}`).values()]);
        } else await snap.close();
      }
      {
        const mapFlags = namespaces.flatMap((n) => ['--namespace-mapping', `${n}=${n}-r${run}`]);
        await quiet();
        const m = await measureProcess(
          launcher,
          ['restore', name, '--storage', store, ...mapFlags, '-o', 'json'],
          env,
        );
        const report = JSON.parse(m.stdout) as { totals: Record<string, number> };
        record('kubectl-snapshot restore (empty)', {
          seconds: m.seconds,
          objects: report.totals.created ?? 0,
          peakRssMiB: m.peakRssMiB,
        });
        // Measured on a settled cluster, as when a user runs it again later: not while the
        // Deployment controller is still making ReplicaSets for the restored Deployments.
        await replicaSetsSettled(client, [...mapping(`r${run}`).values()], deployments);
        await quiet();
        const again = await measureProcess(
          launcher,
          ['restore', name, '--storage', store, ...mapFlags, '-o', 'json'],
          env,
        );
        const r2 = JSON.parse(again.stdout) as { totals: Record<string, number> };
        record('kubectl-snapshot restore (all exist)', {
          seconds: again.seconds,
          objects: (r2.totals['exists-identical'] ?? 0) + (r2.totals['exists-differs'] ?? 0),
          peakRssMiB: again.peakRssMiB,
        });
        await dropNamespaces(client, [...mapping(`r${run}`).values()]);
      }
    }

    // Velero on the same namespaces, once per bench invocation (it is slow), after everything
    // else so its server does not run during the other measurements.
    let velero: { backup: VeleroResult; restore: VeleroResult } | { error: string } | undefined;
    if (veleroBins) {
      try {
        const v = await startVelero({
          kubeconfig: cluster.kubeconfig,
          kubectl: join(cluster.binDir, 'kubectl'),
          s3: cluster.s3,
          workDir: join(cluster.dir, 'velero'),
          binaries: veleroBins,
          log: (l) => console.error(`  ${l}`),
        });
        try {
          await quiet();
          const backup = await v.veleroBackup(namespaces, 'bench-velero');
          record('velero backup', {
            seconds: backup.seconds,
            objects: backup.items,
            peakRssMiB: backup.peakRssMiB,
          });
          await quiet();
          const restore = await v.veleroRestore(
            'bench-velero',
            new Map(namespaces.map((n) => [n, `${n}-velero`])),
          );
          record('velero restore', {
            seconds: restore.seconds,
            objects: restore.items,
            peakRssMiB: restore.peakRssMiB,
          });
          velero = { backup, restore };
        } finally {
          await v.stop();
        }
      } catch (err) {
        velero = { error: err instanceof Error ? err.message : String(err) };
        console.error(`  velero comparison failed: ${velero.error}`);
      }
    }

    const rate = (k: string) => {
      const s = results[k] ?? [];
      return median(s.map((x) => x.objects / x.seconds));
    };
    const rss = (k: string) => {
      const s = (results[k] ?? [])
        .map((x) => x.peakRssMiB)
        .filter((x): x is number => x !== undefined);
      return s.length ? `${median(s).toFixed(0)} MiB` : '';
    };
    const secs = (k: string) => median((results[k] ?? []).map((x) => x.seconds));
    const rows: [string, string, string, string][] = [];
    const row = (k: string, baseline?: string) =>
      results[k] &&
      rows.push([
        k,
        `${rate(k).toFixed(0)} obj/s (${secs(k).toFixed(2)} s)`,
        rss(k),
        baseline ? `${(rate(k) / rate(baseline)).toFixed(2)}x ${baseline}` : '',
      ]);
    row('list (raw API)');
    row('kubectl get -o json', 'list (raw API)');
    row('kubectl-snapshot backup', 'list (raw API)');
    if (KUBECTL)
      rows.push([
        '',
        '',
        '',
        `${(rate('kubectl-snapshot backup') / rate('kubectl get -o json')).toFixed(2)}x kubectl get`,
      ]);
    row('create (raw API, parallel)');
    row('kubectl create -f', 'create (raw API, parallel)');
    row('kubectl-snapshot restore (empty)', 'create (raw API, parallel)');
    if (KUBECTL)
      rows.push([
        '',
        '',
        '',
        `${(rate('kubectl-snapshot restore (empty)') / rate('kubectl create -f')).toFixed(2)}x kubectl create`,
      ]);
    row('kubectl-snapshot restore (all exist)', 'kubectl-snapshot restore (empty)');
    const backupMs = secs('kubectl-snapshot backup') * 1000;
    rows.push([
      'lossless JSON, every LIST page',
      `${jsonCost.losslessMs.toFixed(0)} ms (JSON.parse ${jsonCost.plainMs.toFixed(0)} ms)`,
      '',
      `+${(jsonCost.losslessMs - jsonCost.plainMs).toFixed(0)} ms CPU = ${(((jsonCost.losslessMs - jsonCost.plainMs) / backupMs) * 100).toFixed(1)}% of the backup; an int64 on every page: ${jsonCost.slowPathMs.toFixed(0)} ms`,
    ]);
    const archiveSize = results.archive?.[0]?.objects ?? 0;
    rows.push([
      'archive size',
      `${(archiveSize / 1048576).toFixed(1)} MiB`,
      '',
      `${(archiveSize / rawJsonBytes).toFixed(3)}x raw JSON (${(rawJsonBytes / 1048576).toFixed(1)} MiB)`,
    ]);

    if (velero && 'error' in velero)
      rows.push(['velero', 'failed', '', velero.error.split('\n')[0] ?? '']);
    else if (velero) {
      for (const [k, r] of [
        ['velero backup', velero.backup],
        ['velero restore', velero.restore],
      ] as const)
        rows.push([
          k,
          `${rate(k).toFixed(0)} obj/s (${secs(k).toFixed(2)} s)`,
          rss(k),
          `${r.phase}: ${r.items}/${r.totalItems} items, ${r.errors} errors, ${r.warnings} warnings`,
        ]);
      for (const [a, b] of [
        ['kubectl-snapshot backup', 'velero backup'],
        ['kubectl-snapshot restore (empty)', 'velero restore'],
      ] as const)
        rows.push([
          `${a} vs ${b}`,
          '',
          '',
          rate(b) > 0
            ? `${(rate(a) / rate(b)).toFixed(2)}x obj/s; ${(secs(b) / secs(a)).toFixed(2)}x less wall time`
            : `n/a (${b}: no items)`,
        ]);
    }

    const table = [
      `Benchmark: ${N} ${PAYLOAD} objects in ${M} namespaces, median of ${RUNS} runs; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
      '',
      '| measurement | rate | peak RSS | ratio |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
    ].join('\n');
    console.log(table);
    const outDir = join(root, 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(
      join(outDir, 'latest.json'),
      `${JSON.stringify({ objects: N, namespaces: M, runs: RUNS, rawJsonBytes, jsonCost, results, velero }, null, 2)}\n`,
    );
    writeFileSync(join(outDir, 'latest.md'), table);
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
