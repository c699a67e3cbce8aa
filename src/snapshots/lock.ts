// The lock a backup holds on a snapshot name while it writes: who holds it (a random token,
// the host, the process) and since when. A backup deletes only what it wrote while its token
// is in the lock; `delete` refuses a name whose lock is live; `prune` removes leftovers whose
// lock is stale.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export interface Lock {
  /** Absent in locks of versions before tokens. */
  token?: string;
  startedAt: string;
  host?: string;
  pid?: number;
}

/** A backup that has not finished in a day is taken for dead: none runs that long. */
export const STALE_AFTER_MS = 24 * 3_600_000;

export function newLock(startedAt: Date): Lock {
  return {
    token: randomBytes(16).toString('hex'),
    startedAt: startedAt.toISOString(),
    host: hostname(),
    pid: process.pid,
  };
}

export function parseLock(raw: Buffer): Lock | undefined {
  try {
    const v = JSON.parse(raw.toString('utf8')) as Partial<Lock>;
    if (typeof v?.startedAt !== 'string') return undefined;
    return {
      startedAt: v.startedAt,
      ...(typeof v.token === 'string' ? { token: v.token } : {}),
      ...(typeof v.host === 'string' ? { host: v.host } : {}),
      ...(Number.isSafeInteger(v.pid) ? { pid: v.pid as number } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether the backup holding `lock` may still be running: on this host, exactly when its
 * process lives; elsewhere (or unknown), for a day after it started.
 */
export function isLive(lock: Lock | undefined, now: Date): boolean {
  if (!lock) return false;
  if (lock.host === hostname() && lock.pid !== undefined) return processAlive(lock.pid);
  const started = Date.parse(lock.startedAt);
  return !Number.isNaN(started) && now.getTime() - started < STALE_AFTER_MS;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function describeLock(lock: Lock): string {
  const where = lock.host ? ` on ${lock.host}${lock.pid ? ` (pid ${lock.pid})` : ''}` : '';
  return `a backup started at ${lock.startedAt}${where}`;
}
