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
 * large job's peak near its live heap (a 50,000-object backup: 264 → 219 MiB), at 5–10 % more
 * CPU. A restore knows its size from snapshot.json and pays that only from
 * LARGE_JOB_OBJECTS; a backup cannot know it in time (switched on after 10,000 objects, a
 * 20,000-object backup still peaked at 254 MiB instead of 190: the limits V8 had set by then
 * stay until the next full GC), so it always sets it.
 */
export const LARGE_JOB_FLAG = '--heap-growing-percent=20';
export const LARGE_JOB_OBJECTS = 10_000;

let economizing = false;

/**
 * Switches V8 to LARGE_JOB_FLAG. V8 reads this flag whenever it sets the heap's limits, so
 * setting it while running takes effect from the next GC; call it before the heap grows.
 */
export function economizeHeap(): void {
  if (economizing) return;
  economizing = true;
  setFlagsFromString(LARGE_JOB_FLAG);
}

/** economizeHeap for a job of `objects` objects, when it is large. */
export function economizeHeapFor(objects: number): void {
  if (objects >= LARGE_JOB_OBJECTS) economizeHeap();
}
