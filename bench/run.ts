// `npm run bench -- --objects 20000 [--namespaces 10] [--runs 3] [--no-pin]`
// Backup and restore throughput, peak memory and client CPU against baselines of the same run
// on the same control plane: raw paginated LIST, raw parallel creates at several concurrencies,
// kubectl, Velero. Prints a markdown table and writes bench/results/latest.json.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listableTypes, planListJobs } from '../src/backup/select.js';
import { parseJson } from '../src/core/json.js';
import type { Selection } from '../src/core/types.js';
import { KubeClient } from '../src/kube/client.js';
import { discover } from '../src/kube/discovery.js';
import { planRestore } from '../src/restore/plan.js';
import { checkDependencies } from '../src/restore/preflight.js';
import { loadSnapshot } from '../src/restore/snapshot.js';
import { SnapshotRepository } from '../src/snapshots/repository.js';
import { FsStore } from '../src/storage/fs.js';
import { startCluster } from '../test/cluster/harness.js';
import {
  buildVeleroBinaries,
  findVeleroBinaries,
  startVelero,
  type VeleroBinaries,
} from '../test/cluster/velero.js';
import { type ApfRun, apfNamespaces, rejectedRequests, throttledRestorer } from './apf.js';
import {
  CREATE_CONCURRENCIES,
  createKey,
  dropNamespaces,
  kubectlCreate,
  kubectlGet,
  rawCreates,
  rawList,
  rawListPages,
  replicaSetsSettled,
} from './baselines.js';
import { benchNamespaces, type Payload, populate } from './generate.js';
import { measureProcess, parseMs, quietControlPlane, type Sample } from './measure.js';
import {
  allowedCores,
  describePinning,
  type PinRequest,
  pinProcess,
  planPinning,
  tasksetOnPath,
} from './pin.js';
import {
  AUTO_RESTORE,
  NO_CLOSURE_BACKUP,
  PREFLIGHT,
  type VeleroOutcome,
  writeReport,
} from './report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const launcher = join(root, 'bin', 'kubectl-snapshot');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** `--concurrencies 4,16`: fewer raw-create concurrencies in the sweep (a 50,000-object run). */
const SWEEP: number[] = (() => {
  const i = process.argv.indexOf('--concurrencies');
  if (i < 0) return [...CREATE_CONCURRENCIES];
  const cs = (process.argv[i + 1] ?? '').split(',').map(Number);
  const known: readonly number[] = CREATE_CONCURRENCIES;
  if (!cs.length || cs.some((c) => !known.includes(c)))
    throw new Error(`--concurrencies takes some of ${CREATE_CONCURRENCIES.join(',')}`);
  return cs;
})();
/** `--no-apf`: no throttled restores; throttled, a fixed 16 takes minutes (`--apf-runs N`, 1). */
const APF = !process.argv.includes('--no-apf');
const APF_RUNS = arg('apf-runs', 1);
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
/** `--pin` is the default where there are 2 or more cores; `--no-pin` shares them all. */
const PIN: PinRequest = process.argv.includes('--no-pin')
  ? 'no-pin'
  : process.argv.includes('--pin')
    ? 'pin'
    : 'default';

async function main(): Promise<void> {
  console.error(`bench: ${N} ${PAYLOAD} objects across ${M} namespaces, ${RUNS} runs each`);
  const pinning = planPinning(PIN, allowedCores(), tasksetOnPath());
  if (PIN === 'pin' && pinning.mode === 'shared')
    console.error(`  --pin not possible (${pinning.why}); running shared`);
  // This process first: the in-process baselines run here, and every child it starts (the CLI,
  // kubectl, Velero) inherits the client's cores. The control plane is moved after its start.
  if (pinning.mode === 'pinned') pinProcess(process.pid, pinning.client);
  console.error(`  cores: ${describePinning(pinning)}`);
  let veleroBins: VeleroBinaries | undefined;
  {
    const found = findVeleroBinaries();
    if (VELERO === false) console.error('  velero comparison: off (--no-velero)');
    else if ('velero' in found) veleroBins = found;
    else if (VELERO) veleroBins = buildVeleroBinaries((l) => console.error(`  ${l}`));
    else console.error(`  velero comparison: off (${found.missing}; or pass --velero)`);
  }
  const cluster = await startCluster({ log: (l) => console.error(`  ${l}`) });
  if (pinning.mode === 'pinned') for (const pid of cluster.pids) pinProcess(pid, pinning.server);
  const results: Record<string, Sample[]> = {};
  const record = (k: string, s: Sample) => {
    results[k] = [...(results[k] ?? []), s];
    console.error(
      `  ${k}: ${s.objects} objects in ${s.seconds.toFixed(2)}s${s.peakRssMiB ? `, peak RSS ${s.peakRssMiB.toFixed(0)} MiB` : ''}${s.cpuSeconds !== undefined ? `, client CPU ${s.cpuSeconds.toFixed(2)} s` : ''}`,
    );
  };
  // Before every measurement: what an earlier one left the control plane doing is not ours.
  const quiet = () => quietControlPlane(cluster.pids);
  try {
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfig };
    const kubeconfig = cluster.kubeconfig;
    const kubectl = join(cluster.binDir, 'kubectl');
    const client = KubeClient.connect({ kubeconfig }, 32);
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
    const namespacedTypes = types
      .filter((x) => x.namespaced)
      .map((t) => (t.group ? `${t.resource}.${t.group}` : t.resource));

    for (let run = 0; run < RUNS; run++) {
      await quiet();
      record(
        'list (raw API)',
        await rawList(kubeconfig, planListJobs(types, selection, namespaces)),
      );
      if (KUBECTL) {
        await quiet();
        record('kubectl get -o json', await kubectlGet(kubectl, namespacedTypes, env));
      }
      // kubectl-snapshot backup, as a user runs it.
      await quiet();
      const m = await measureProcess(
        launcher,
        ['backup', `bench-${run}`, ...nsFlags, '--storage', store, '-o', 'json'],
        env,
      );
      const manifest = JSON.parse(m.stdout) as { totalObjects: number; archive: { size: number } };
      record('kubectl-snapshot backup', {
        seconds: m.seconds,
        objects: manifest.totalObjects,
        peakRssMiB: m.peakRssMiB,
        cpuSeconds: m.cpuSeconds,
      });
      results.archive = [{ seconds: 0, objects: manifest.archive.size }];
      // What the closure costs (the cluster-scoped lists it reads and its decisions): the same
      // backup without any cluster-scoped object.
      await quiet();
      const bare = await measureProcess(
        launcher,
        [
          'backup',
          `bench-bare-${run}`,
          ...nsFlags,
          '--include-cluster-resources',
          'false',
          '--storage',
          store,
          '-o',
          'json',
        ],
        env,
      );
      record(NO_CLOSURE_BACKUP, {
        seconds: bare.seconds,
        objects: (JSON.parse(bare.stdout) as { totalObjects: number }).totalObjects,
        peakRssMiB: bare.peakRssMiB,
        cpuSeconds: bare.cpuSeconds,
      });
    }

    // Every listing run above saw the same cluster; restores come after, since they add copies.
    for (let run = 0; run < RUNS; run++) {
      const name = `bench-${run}`;
      // Restores go into fresh namespaces each time (namespace mapping), so every one starts
      // empty, and each one's namespaces are dropped before the next measurement.
      const snap = await loadSnapshot(new SnapshotRepository(new FsStore(store)), name);
      const mapping = (suffix: string) => new Map(namespaces.map((n) => [n, `${n}-${suffix}`]));
      const plan = (suffix: string) =>
        planRestore(snap.objects, {
          namespaces: [],
          includeResources: [],
          excludeResources: [],
          includeClusterResources: 'auto',
          preserveNodePorts: false,
          mapping: mapping(suffix),
        });
      try {
        // What the preflight costs a restore before its first create: the dependency check of
        // every planned object, with its GETs of what the cluster must already have.
        {
          const p = plan(`pre${run}`);
          const planned = [...p.crds, ...p.namespaces, ...p.tiers.flat()];
          await quiet();
          const cpu = process.cpuUsage();
          const t = process.hrtime.bigint();
          await checkDependencies(snap.objects, planned, mapping(`pre${run}`), client);
          const used = process.cpuUsage(cpu);
          record(PREFLIGHT, {
            seconds: Number(process.hrtime.bigint() - t) / 1e9,
            objects: planned.length,
            cpuSeconds: (used.user + used.system) / 1e6,
          });
        }
        // The limit for restore: the best of raw creates at several concurrencies, in an order
        // rotated each run, so that no concurrency always meets the cluster first.
        const k = run % SWEEP.length;
        for (const c of [...SWEEP.slice(k), ...SWEEP.slice(0, k)]) {
          const suffix = `raw${run}c${c}`;
          record(createKey(c), await rawCreates(kubeconfig, plan(suffix), c, quiet));
          await dropNamespaces(client, [...mapping(suffix).values()]);
        }
        if (KUBECTL) {
          const file = join(cluster.dir, `bench-manifests-${run}.json`);
          const suffix = `kubectl${run}`;
          record('kubectl create -f', await kubectlCreate(kubectl, plan(suffix), file, env, quiet));
          await dropNamespaces(client, [...mapping(suffix).values()]);
        }
      } finally {
        await snap.close();
      }
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
        cpuSeconds: m.cpuSeconds,
      });
      // The same restore with the adaptive concurrency, into namespaces of its own.
      const autoMapping = mapping(`ra${run}`);
      await quiet();
      const auto = await measureProcess(
        launcher,
        [
          'restore',
          name,
          '--storage',
          store,
          ...[...autoMapping].flatMap(([from, to]) => ['--namespace-mapping', `${from}=${to}`]),
          '--concurrency',
          'auto',
          '-o',
          'json',
        ],
        env,
      );
      record(AUTO_RESTORE, {
        seconds: auto.seconds,
        objects:
          (JSON.parse(auto.stdout) as { totals: Record<string, number> }).totals.created ?? 0,
        peakRssMiB: auto.peakRssMiB,
        cpuSeconds: auto.cpuSeconds,
      });
      await dropNamespaces(client, [...autoMapping.values()]);
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
        cpuSeconds: again.cpuSeconds,
      });
      await dropNamespaces(client, [...mapping(`r${run}`).values()]);
    }

    // Restores throttled by API Priority and Fairness, fixed 16 against auto, alternating.
    const apf: ApfRun[] = [];
    if (APF) {
      const restorer = {
        ...env,
        KUBECONFIG: await throttledRestorer(client, kubeconfig, cluster.dir),
      };
      const chosen = apfNamespaces(namespaces, N);
      for (let run = 0; run < APF_RUNS; run++) {
        const modes = run % 2 === 0 ? (['16', 'auto'] as const) : (['auto', '16'] as const);
        for (const concurrency of modes) {
          const targets = chosen.map((n) => [n, `${n}-apf${run}-${concurrency}`] as const);
          await quiet();
          const before = rejectedRequests(kubectl, env);
          const m = await measureProcess(
            launcher,
            [
              'restore',
              `bench-${run}`,
              '--storage',
              store,
              ...chosen.flatMap((n) => ['-n', n]),
              ...targets.flatMap(([from, to]) => ['--namespace-mapping', `${from}=${to}`]),
              '--concurrency',
              concurrency,
              '-o',
              'json',
            ],
            restorer,
          );
          const totals = (JSON.parse(m.stdout) as { totals: Record<string, number> }).totals;
          const r: ApfRun = {
            concurrency,
            seconds: m.seconds,
            created: totals.created ?? 0,
            failed: totals.failed ?? 0,
            rejected: rejectedRequests(kubectl, env) - before,
            cpuSeconds: m.cpuSeconds,
          };
          apf.push(r);
          console.error(
            `  restore under APF, concurrency ${concurrency}: ${r.created} created, ${r.failed} failed in ${r.seconds.toFixed(2)} s, ${r.rejected} rejected`,
          );
          await dropNamespaces(
            client,
            targets.map(([, to]) => to),
          );
        }
      }
    }

    // Velero on the same namespaces, once per bench invocation (it is slow), after everything
    // else so its server does not run during the other measurements. Started from this
    // process, it runs on the client's cores when pinned: it is the client being compared.
    let velero: VeleroOutcome;
    if (veleroBins) {
      try {
        const v = await startVelero({
          kubeconfig,
          kubectl,
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

    writeReport(join(root, 'bench', 'results'), {
      objects: N,
      namespaces: M,
      runs: RUNS,
      payload: PAYLOAD,
      kubectl: KUBECTL,
      pinning,
      rawJsonBytes,
      jsonCost,
      results,
      apf,
      velero,
    });
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
