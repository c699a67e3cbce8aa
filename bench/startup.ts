// npm run bench:startup [-- --runs 31]
//
// Start-up time of `kubectl-snapshot version` (the single executable, the development
// launcher, and through kubectl's plugin discovery) next to `kubectl version --client`,
// measured in the same run: median of N runs after warm-up, with the ratio to kubectl.
// Builds the host's single executable first when dist/ lacks it or it is older than src/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildPackages, builtBinary, projectRoot, type TargetId } from '../scripts/package.js';
import { ensureBinaries } from '../test/cluster/harness.js';

interface Case {
  label: string;
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function timeOnce(c: Case): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(c.file, c.args, {
    env: c.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0)
    throw new Error(`${c.label} exited ${r.status}: ${r.stderr?.toString() || r.error?.message}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '21' }, warmup: { type: 'string', default: '3' } },
  });
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  const root = projectRoot();
  const host =
    `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}` as TargetId;
  const binary = builtBinary(host, root);
  if (!existsSync(binary) || statSync(binary).mtimeMs < newest(join(root, 'src'))) {
    console.error(`building the ${host} single executable first…`);
    await buildPackages({ targets: [host], log: () => {} });
  }
  const kubectl = join(ensureBinaries(), 'kubectl');
  const node = join(root, 'node_modules', '.bin', 'node');
  const cases: Case[] = [
    { label: 'kubectl version --client', file: kubectl, args: ['version', '--client'] },
    { label: 'kubectl-snapshot version (single executable)', file: binary, args: ['version'] },
    {
      label: 'kubectl snapshot version (plugin discovery → single executable)',
      file: kubectl,
      args: ['snapshot', 'version'],
      env: { ...process.env, PATH: [dirname(binary), dirname(kubectl)].join(delimiter) },
    },
    {
      label: 'kubectl-snapshot version (dev launcher bin/kubectl-snapshot)',
      file: join(root, 'bin', 'kubectl-snapshot'),
      args: ['version'],
    },
    {
      label: 'node build/src/main.js version (no launcher)',
      file: node,
      args: [join(root, 'build', 'src', 'main.js'), 'version'],
    },
    { label: 'kubectl-snapshot --help (single executable)', file: binary, args: ['--help'] },
    // The floor: the same Node starting and running nothing.
    { label: "node -e 0 (the project's Node, nothing loaded)", file: node, args: ['-e', '0'] },
  ];

  const results = new Map<string, number[]>();
  for (const c of cases) for (let i = 0; i < warmup; i++) timeOnce(c);
  // Interleaved, so drift on a busy machine hits every case alike.
  for (let i = 0; i < runs; i++)
    for (const c of cases) results.set(c.label, [...(results.get(c.label) ?? []), timeOnce(c)]);

  const base = median(results.get(cases[0]?.label as string) ?? []);
  const rows = cases.map((c) => {
    const xs = results.get(c.label) ?? [];
    const m = median(xs);
    return [c.label, m.toFixed(0), Math.min(...xs).toFixed(0), `${(m / base).toFixed(2)}×`];
  });
  const head = ['command', 'median ms', 'min ms', 'vs kubectl'];
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  console.log(
    `start-up, ${runs} runs each after ${warmup} warm-up runs (${host}, ${new Date().toISOString()})`,
  );
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
