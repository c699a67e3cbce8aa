// `--pin`: the control plane (etcd, kube-apiserver, kube-controller-manager, MinIO) on one set
// of cores, the measured clients on the others, as in a real cluster where the API server runs
// on machines of its own. Applied with taskset (util-linux).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export type PinRequest = 'pin' | 'no-pin' | 'default';

export type PinPlan =
  | { mode: 'pinned'; server: number[]; client: number[] }
  | { mode: 'shared'; cores: number[]; why: string };

/** Parses a kernel CPU list such as `0-3,6,8-9`. */
export function parseCpuList(list: string): number[] {
  const cores: number[] = [];
  for (const part of list.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    for (let c = a; c <= (b ?? a); c++) cores.push(c);
  }
  return cores;
}

/**
 * Decides the mode: pinned by default where this process may use 2 or more cores and taskset
 * exists. The client gets the upper half of the cores (at least one), the server the rest.
 */
export function planPinning(request: PinRequest, cores: number[], hasTaskset: boolean): PinPlan {
  if (request === 'no-pin') return { mode: 'shared', cores, why: '--no-pin' };
  if (cores.length < 2) return { mode: 'shared', cores, why: `only ${cores.length} core` };
  if (!hasTaskset) return { mode: 'shared', cores, why: 'taskset (util-linux) is not on PATH' };
  const clientCount = Math.max(1, Math.floor(cores.length / 2));
  return {
    mode: 'pinned',
    server: cores.slice(0, cores.length - clientCount),
    client: cores.slice(cores.length - clientCount),
  };
}

export function describePinning(plan: PinPlan): string {
  return plan.mode === 'pinned'
    ? `pinned: control plane and MinIO on cores ${plan.server.join(',')}, clients on ${plan.client.join(',')}`
    : `shared: everything on cores ${plan.cores.join(',')} (${plan.why})`;
}

/** The cores this process may run on (its affinity mask, which may be narrower than nproc). */
export function allowedCores(): number[] {
  const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m?.[1] ? parseCpuList(m[1]) : [0];
}

export function tasksetOnPath(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Sets the affinity of every thread of a running process (`taskset -a -p`). */
export function pinProcess(pid: number, cores: number[]): void {
  execFileSync('taskset', ['-a', '-p', '-c', cores.join(','), String(pid)], { stdio: 'ignore' });
}
