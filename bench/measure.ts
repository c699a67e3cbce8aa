// Timing, peak RSS and CPU time of measured processes, and the wait for a quiet control plane,
// all read from Linux /proc.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Sample {
  seconds: number;
  objects: number;
  peakRssMiB?: number;
  /** CPU seconds (user + system) of the measured client: the CLI child, or this process. */
  cpuSeconds?: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const CLOCK_TICKS =
  Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parens). */
function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat), in seconds. */
export function processCpuSeconds(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/**
 * cutime + cstime of this process (fields 16 and 17): the CPU of every child it has reaped.
 * The kernel adds a child's utime + stime there when the child is waited for, so the
 * difference across one child's life is that child's exact total, including its last
 * milliseconds, which no poll of its own /proc/<pid>/stat can see.
 */
function reapedChildrenCpuSeconds(): number {
  const f = statFields('self');
  return (Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
}

/**
 * Runs a command and records its wall time, peak RSS (VmHWM) and CPU time (utime + stime),
 * polling /proc/<pid> every 20 ms while it runs. Children are measured one at a time, so the
 * reaped-children CPU of this process grows only by this one's.
 */
export async function measureProcess(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ seconds: number; peakRssMiB: number; cpuSeconds: number; stdout: string }> {
  const reapedBefore = reapedChildrenCpuSeconds();
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
  let polledCpu = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
      polledCpu = processCpuSeconds(child.pid as number);
    } catch {
      // exited
    }
  }, 20);
  const code: number = await new Promise((r) => child.on('exit', (c) => r(c ?? 1)));
  clearInterval(poll);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0 && code !== 2)
    throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`);
  const reaped = reapedChildrenCpuSeconds() - reapedBefore;
  return { seconds, peakRssMiB: peak / 1024, cpuSeconds: Math.max(reaped, polledCpu), stdout };
}

/** CPU seconds (user + system) this process has used so far, for the in-process baselines. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU seconds the control plane's processes have used so far (Linux /proc). */
function controlPlaneCpuSeconds(pids: readonly number[]): number {
  let seconds = 0;
  for (const pid of pids) {
    try {
      seconds += processCpuSeconds(pid);
    } catch {
      // exited
    }
  }
  return seconds;
}

/**
 * Waits until the control plane is quiet, under 10 % of one CPU for a whole second, so that a
 * measurement does not pay for work an earlier one left behind: the namespace controller
 * deleting thousands of objects, the garbage collector taking in thousands of new ones. On two
 * cores that work took half the CPU of a 20,000-object skip-path restore. At most 2 minutes.
 */
export async function quietControlPlane(pids: readonly number[]): Promise<void> {
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

/** Median wall time of parsing every page with `parse`, in ms. */
export function parseMs(pages: readonly string[], parse: (t: string) => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    for (const p of pages) parse(p);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(times);
}
