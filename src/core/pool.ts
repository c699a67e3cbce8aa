/** Runs `fn` over `items` with at most `limit` in flight; rejects on the first failure. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  // A limit below 1 (or NaN) would start no worker and silently skip every item.
  const workers = Math.min(items.length, Math.max(1, Math.floor(limit) || 1));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

/** What `mapAdaptive` asks of its limit (core/adaptive.ts). */
export interface InFlightLimit {
  readonly current: number;
  pauseLeft(now: number): number;
}

/**
 * `mapLimit` with a limit that changes while it runs: before each start it asks how many may
 * be in flight and whether the server asked for a pause; rejects on the first failure.
 */
export function mapAdaptive<T, R>(
  items: readonly T[],
  limit: InFlightLimit,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  if (items.length === 0) return Promise.resolve(results);
  return new Promise<R[]>((resolve, reject) => {
    let next = 0;
    let inFlight = 0;
    let failed = false;
    let timer: NodeJS.Timeout | undefined;
    const pump = (): void => {
      if (failed) return;
      if (next >= items.length) {
        if (inFlight === 0) resolve(results);
        return;
      }
      const wait = limit.pauseLeft(Date.now());
      if (wait > 0) {
        timer ??= setTimeout(() => {
          timer = undefined;
          pump();
        }, wait);
        return;
      }
      // At least one in flight, whatever the limit says, so the run always progresses.
      while (next < items.length && (inFlight === 0 || inFlight < limit.current)) {
        const i = next++;
        inFlight++;
        fn(items[i] as T, i).then(
          (r) => {
            results[i] = r;
            inFlight--;
            pump();
          },
          (err: unknown) => {
            failed = true;
            if (timer) clearTimeout(timer);
            reject(err);
          },
        );
      }
    };
    pump();
  });
}
