/** Resolves after `ms` milliseconds (through the global setTimeout, so fake timers apply). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
