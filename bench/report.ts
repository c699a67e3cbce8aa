// The benchmark's output: a markdown table (printed, and written to bench/results/latest.md)
// and every sample as JSON (latest.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { VeleroResult } from '../test/cluster/velero.js';
import type { ApfRun } from './apf.js';
import { CREATE_CONCURRENCIES, createKey } from './baselines.js';
import { median, type Sample } from './measure.js';
import { describePinning, type PinPlan } from './pin.js';

export interface JsonCost {
  bytes: number;
  plainMs: number;
  losslessMs: number;
  slowPathMs: number;
}

export type VeleroOutcome =
  | { backup: VeleroResult; restore: VeleroResult }
  | { error: string }
  | undefined;

export interface BenchReport {
  objects: number;
  namespaces: number;
  runs: number;
  payload: string;
  kubectl: boolean;
  pinning: PinPlan;
  rawJsonBytes: number;
  jsonCost: JsonCost;
  results: Record<string, Sample[]>;
  /** Restores throttled by API Priority and Fairness (bench/apf.ts); empty with --no-apf. */
  apf: ApfRun[];
  velero: VeleroOutcome;
}

/** The restore with `--concurrency auto` (core/adaptive.ts), beside the default fixed 16. */
export const AUTO_RESTORE = 'kubectl-snapshot restore (empty, --concurrency auto)';
/** The backup with `--include-cluster-resources false`: what the closure costs. */
export const NO_CLOSURE_BACKUP = 'kubectl-snapshot backup (no closure)';
/** The restore's dependency check of every planned object, timed in this process. */
export const PREFLIGHT = 'restore preflight (dependency check, in-process)';

/** The best raw-create concurrency by median rate: the restore's limit. */
export function bestCreate(results: Record<string, Sample[]>): number | undefined {
  let best: { c: number; rate: number } | undefined;
  for (const c of CREATE_CONCURRENCIES) {
    const s = results[createKey(c)];
    if (!s?.length) continue;
    const rate = median(s.map((x) => x.objects / x.seconds));
    if (!best || rate > best.rate) best = { c, rate };
  }
  return best?.c;
}

/** Client CPU seconds per 1,000 objects: the figure that holds on a noisy machine. */
export function cpuPer1000(samples: readonly Sample[]): number | undefined {
  const xs = samples
    .filter((x) => x.cpuSeconds !== undefined && x.objects > 0)
    .map((x) => ((x.cpuSeconds as number) / x.objects) * 1000);
  return xs.length ? median(xs) : undefined;
}

export function renderTable(r: BenchReport): string {
  const { results } = r;
  const rate = (k: string) => median((results[k] ?? []).map((x) => x.objects / x.seconds));
  const rss = (k: string) => {
    const s = (results[k] ?? [])
      .map((x) => x.peakRssMiB)
      .filter((x): x is number => x !== undefined);
    return s.length ? `${median(s).toFixed(0)} MiB` : '';
  };
  const cpu = (k: string) => {
    const c = cpuPer1000(results[k] ?? []);
    return c === undefined ? '' : `${c.toFixed(2)} s`;
  };
  const secs = (k: string) => median((results[k] ?? []).map((x) => x.seconds));
  const rows: [string, string, string, string, string][] = [];
  const note = (text: string) => rows.push(['', '', '', '', text]);
  const row = (k: string, baseline?: string, label = k) =>
    results[k] &&
    rows.push([
      label,
      `${rate(k).toFixed(0)} obj/s (${secs(k).toFixed(2)} s)`,
      rss(k),
      cpu(k),
      baseline ? `${(rate(k) / rate(baseline)).toFixed(2)}x ${baseline}` : '',
    ]);
  row('list (raw API)');
  row('kubectl get -o json', 'list (raw API)');
  row('kubectl-snapshot backup', 'list (raw API)');
  if (results[NO_CLOSURE_BACKUP]) {
    row(NO_CLOSURE_BACKUP, 'list (raw API)');
    const cost = secs('kubectl-snapshot backup') - secs(NO_CLOSURE_BACKUP);
    // A backup that took less with its closure than without says the cost is below the spread.
    const signed = cost >= 0 ? `+${cost.toFixed(2)} s` : `${cost.toFixed(2)} s (none measurable)`;
    note(
      `the closure: ${signed}, ${results['kubectl-snapshot backup']?.[0]?.objects ?? 0} against ${results[NO_CLOSURE_BACKUP]?.[0]?.objects ?? 0} objects`,
    );
  }
  if (r.kubectl)
    note(
      `${(rate('kubectl-snapshot backup') / rate('kubectl get -o json')).toFixed(2)}x kubectl get`,
    );
  const best = bestCreate(results);
  const limit = best === undefined ? undefined : createKey(best);
  for (const c of CREATE_CONCURRENCIES) {
    const k = createKey(c);
    if (k === limit) row(k, undefined, `${k}: the best`);
    else if (limit) row(k, limit);
  }
  row('kubectl create -f', limit);
  row('kubectl-snapshot restore (empty)', limit);
  if (r.kubectl)
    note(
      `${(rate('kubectl-snapshot restore (empty)') / rate('kubectl create -f')).toFixed(2)}x kubectl create`,
    );
  row(AUTO_RESTORE, limit);
  row('kubectl-snapshot restore (all exist)', 'kubectl-snapshot restore (empty)');
  if (results[PREFLIGHT])
    rows.push([
      PREFLIGHT,
      `${(secs(PREFLIGHT) * 1000).toFixed(0)} ms for ${results[PREFLIGHT]?.[0]?.objects ?? 0} objects`,
      '',
      cpu(PREFLIGHT),
      `${((secs(PREFLIGHT) / secs('kubectl-snapshot restore (empty)')) * 100).toFixed(1)}% of the restore into empty namespaces`,
    ]);
  for (const concurrency of ['16', 'auto'] as const) {
    const runs = r.apf.filter((x) => x.concurrency === concurrency);
    if (!runs.length) continue;
    const s = median(runs.map((x) => x.seconds));
    rows.push([
      `restore under APF (3 seats, Reject), concurrency ${concurrency}`,
      `${median(runs.map((x) => x.created / x.seconds)).toFixed(0)} obj/s (${s.toFixed(2)} s)`,
      '',
      `${median(runs.map((x) => (x.cpuSeconds / Math.max(1, x.created)) * 1000)).toFixed(2)} s`,
      `failed ${runs.map((x) => x.failed).join('/')}; 429s ${runs.map((x) => x.rejected).join('/')}`,
    ]);
  }
  {
    const rateOf = (c: '16' | 'auto') =>
      median(r.apf.filter((x) => x.concurrency === c).map((x) => x.created / x.seconds));
    if (r.apf.some((x) => x.concurrency === '16') && r.apf.some((x) => x.concurrency === 'auto'))
      note(`under APF: auto ${(rateOf('auto') / rateOf('16')).toFixed(2)}x the obj/s of fixed 16`);
  }
  const { jsonCost } = r;
  const backupMs = secs('kubectl-snapshot backup') * 1000;
  rows.push([
    'lossless JSON, every LIST page',
    `${jsonCost.losslessMs.toFixed(0)} ms (JSON.parse ${jsonCost.plainMs.toFixed(0)} ms)`,
    '',
    '',
    `+${(jsonCost.losslessMs - jsonCost.plainMs).toFixed(0)} ms CPU = ${(((jsonCost.losslessMs - jsonCost.plainMs) / backupMs) * 100).toFixed(1)}% of the backup; an int64 on every page: ${jsonCost.slowPathMs.toFixed(0)} ms`,
  ]);
  const archiveSize = results.archive?.[0]?.objects ?? 0;
  rows.push([
    'archive size',
    `${(archiveSize / 1048576).toFixed(1)} MiB`,
    '',
    '',
    `${(archiveSize / r.rawJsonBytes).toFixed(3)}x raw JSON (${(r.rawJsonBytes / 1048576).toFixed(1)} MiB)`,
  ]);

  const { velero } = r;
  if (velero && 'error' in velero)
    rows.push(['velero', 'failed', '', '', velero.error.split('\n')[0] ?? '']);
  else if (velero) {
    for (const [k, v] of [
      ['velero backup', velero.backup],
      ['velero restore', velero.restore],
    ] as const)
      rows.push([
        k,
        `${rate(k).toFixed(0)} obj/s (${secs(k).toFixed(2)} s)`,
        rss(k),
        '',
        `${v.phase}: ${v.items}/${v.totalItems} items, ${v.errors} errors, ${v.warnings} warnings`,
      ]);
    for (const [a, b] of [
      ['kubectl-snapshot backup', 'velero backup'],
      ['kubectl-snapshot restore (empty)', 'velero restore'],
    ] as const)
      rows.push([
        `${a} vs ${b}`,
        '',
        '',
        '',
        rate(b) > 0
          ? `${(rate(a) / rate(b)).toFixed(2)}x obj/s; ${(secs(b) / secs(a)).toFixed(2)}x less wall time`
          : `n/a (${b}: no items)`,
      ]);
  }

  return [
    `Benchmark: ${r.objects} ${r.payload} objects in ${r.namespaces} namespaces, median of ${r.runs} runs; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `Cores: ${describePinning(r.pinning)}`,
    '',
    '| measurement | rate | peak RSS | client CPU per 1,000 objects | ratio |',
    '|---|---|---|---|---|',
    ...rows.map((x) => `| ${x.join(' | ')} |`),
    '',
  ].join('\n');
}

/** Prints the table and writes latest.md and latest.json into `outDir`. */
export function writeReport(outDir: string, r: BenchReport): void {
  const table = renderTable(r);
  console.log(table);
  mkdirSync(outDir, { recursive: true });
  const best = bestCreate(r.results);
  const clientCpuPer1000 = Object.fromEntries(
    Object.entries(r.results)
      .map(([k, s]) => [k, cpuPer1000(s)] as const)
      .filter(([k, c]) => c !== undefined && k !== 'archive'),
  );
  writeFileSync(
    join(outDir, 'latest.json'),
    `${JSON.stringify(
      {
        ...r,
        pinning: { ...r.pinning, description: describePinning(r.pinning) },
        restoreLimit: best === undefined ? undefined : { concurrency: best, key: createKey(best) },
        clientCpuPer1000,
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(join(outDir, 'latest.md'), table);
}
