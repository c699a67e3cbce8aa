// The benchmark's table (bench/report.ts) and the APF run's choice of namespaces (bench/apf.ts).
import { describe, expect, it } from 'vitest';
import { type ApfRun, apfNamespaces } from '../../bench/apf.js';
import { createKey } from '../../bench/baselines.js';
import type { Sample } from '../../bench/measure.js';
import { type BenchReport, NO_CLOSURE_BACKUP, PREFLIGHT, renderTable } from '../../bench/report.js';

const sample = (objects: number, seconds: number, cpuSeconds?: number): Sample => ({
  objects,
  seconds,
  cpuSeconds,
});

function report(results: Record<string, Sample[]>, apf: ApfRun[] = []): BenchReport {
  return {
    objects: 1000,
    namespaces: 2,
    runs: 1,
    payload: 'realistic',
    kubectl: false,
    pinning: { mode: 'shared', cores: [0, 1], why: '--no-pin' },
    rawJsonBytes: 1 << 20,
    jsonCost: { bytes: 1 << 20, plainMs: 10, losslessMs: 12, slowPathMs: 20 },
    results: { archive: [sample(1 << 18, 0)], ...results },
    apf,
    velero: undefined,
  };
}

const apfRun = (concurrency: '16' | 'auto', seconds: number, failed = 0): ApfRun => ({
  concurrency,
  seconds,
  created: 1000 - failed,
  failed,
  rejected: 40,
  cpuSeconds: 2,
});

describe('the benchmark report', () => {
  it('restores about 500 objects under APF whatever the benchmark size, at least one namespace', () => {
    const ns = Array.from({ length: 10 }, (_, i) => `bench-${i}`);
    expect(apfNamespaces(ns, 500)).toHaveLength(10);
    expect(apfNamespaces(ns, 1000)).toHaveLength(5);
    expect(apfNamespaces(ns, 5000)).toEqual(['bench-0']);
    expect(apfNamespaces(ns, 50000)).toEqual(['bench-0']);
  });

  it('rates every create concurrency against the best one, and the restore against it', () => {
    const t = renderTable(
      report({
        [createKey(8)]: [sample(1000, 4)],
        [createKey(16)]: [sample(1000, 2)],
        'kubectl-snapshot restore (empty)': [sample(1000, 2.5)],
      }),
    );
    expect(t).toContain(`| ${createKey(16)}: the best | 500 obj/s (2.00 s)`);
    expect(t).toContain(`0.50x ${createKey(16)}`);
    expect(t).toMatch(/kubectl-snapshot restore \(empty\) \| 400 obj\/s .*0\.80x/);
  });

  it('states what the closure and the preflight cost beside the backup and restore', () => {
    const t = renderTable(
      report({
        'list (raw API)': [sample(1000, 0.5)],
        'kubectl-snapshot backup': [sample(1010, 1.5)],
        [NO_CLOSURE_BACKUP]: [sample(1000, 1.25)],
        'kubectl-snapshot restore (empty)': [sample(1000, 4)],
        [PREFLIGHT]: [sample(1010, 0.2, 0.1)],
      }),
    );
    expect(t).toContain('the closure: +0.25 s, 1010 against 1000 objects');
    expect(t).toContain('200 ms for 1010 objects');
    expect(t).toContain('5.0% of the restore into empty namespaces');
  });

  it('says a closure that cost less than nothing is not measurable, instead of a negative cost', () => {
    const t = renderTable(
      report({
        'list (raw API)': [sample(1000, 0.5)],
        'kubectl-snapshot backup': [sample(1010, 1.25)],
        [NO_CLOSURE_BACKUP]: [sample(1000, 1.5)],
      }),
    );
    expect(t).toContain('the closure: -0.25 s (none measurable), 1010 against 1000 objects');
    expect(t).not.toContain('+-');
  });

  it('compares the throttled restores by median rate and lists every failure and 429 count', () => {
    const t = renderTable(
      report({}, [apfRun('16', 10, 3), apfRun('auto', 5), apfRun('16', 12), apfRun('auto', 6)]),
    );
    expect(t).toContain('concurrency 16 | 100 obj/s (12.00 s)');
    expect(t).toContain('failed 3/0; 429s 40/40');
    expect(t).toContain('under APF: auto 2.01x the obj/s of fixed 16');
  });
});
