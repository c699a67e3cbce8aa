// V8 tuning. NODE_FLAGS are what every entry point starts with: the development launcher
// (bin/kubectl-snapshot) and the single executable (its SEA config's execArgv). A backup or
// restore allocates hundreds of megabytes of short-lived JSON while its live heap stays small;
// V8's default young generation (up to 3 × 16 MiB semi-spaces) lets the RSS drift far above
// it. The limit is soft: unlike --max-old-space-size it never makes a large restore fail.
// Measured on the benchmark, see docs/performance.md.
import { setFlagsFromString } from 'node:v8';

export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/**
 * After each full GC V8 lets the old space grow by up to 4x before the next one; 1.2 keeps a
 * large job's peak near its live heap (50,000 objects: 264 → 219 MiB), at 5–10 % more CPU.
 * Below LARGE_JOB_OBJECTS the memory is small anyway, so the CPU is not spent there.
 */
export const LARGE_JOB_FLAG = '--heap-growing-percent=20';
export const LARGE_JOB_OBJECTS = 10_000;

let economizing = false;

/**
 * Switches V8 to LARGE_JOB_FLAG once a job reaches LARGE_JOB_OBJECTS objects. V8 reads this
 * flag at every heap-limit update, so setting it while running takes effect at the next GC.
 */
export function economizeHeapFor(objects: number): void {
  if (economizing || objects < LARGE_JOB_OBJECTS) return;
  economizing = true;
  setFlagsFromString(LARGE_JOB_FLAG);
}
