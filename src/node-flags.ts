// V8 flags every entry point runs with: the development launcher (bin/kubectl-snapshot) and
// the single executable (its SEA config's execArgv). A backup or restore allocates hundreds of
// megabytes of short-lived JSON while its live heap stays near 30 MiB; V8's default young
// generation (up to 3 × 16 MiB semi-spaces) and lazy old-space growth let the RSS drift far
// above that. After each full GC, V8 lets the old space grow by a factor of up to 4 before the
// next one; 1.2 keeps the peak near the live heap. Both limits are soft: unlike
// --max-old-space-size they never make a large restore fail. Measured on the 50,000-object
// benchmark, see docs/performance.md.
export const NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=20',
];
