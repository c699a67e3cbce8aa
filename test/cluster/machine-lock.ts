// A lock held across processes on this machine, for what only one process can run at a time
// (velero server binds :8080 and has no flag to move it, and its namespace is `velero`):
// test files and the benchmark that start one wait their turn instead of failing.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits (polling) until the lock `name` is free, takes it, and answers its release. */
export async function machineLock(
  name: string,
  log: (line: string) => void = () => {},
  timeoutMs = 900_000,
): Promise<() => void> {
  const dir = join(tmpdir(), `kubectl-snapshot-${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = 0;
    try {
      holder = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    } catch {
      // Taken a moment ago, its pid not written yet.
    }
    // A holder that died without releasing (killed test run) leaves a stale lock.
    if (holder > 0 && !alive(holder)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${dir} still held by process ${holder}`);
    if (!told) log(`waiting for ${name}: held by process ${holder}`);
    told = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
