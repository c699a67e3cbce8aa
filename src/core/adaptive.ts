// How many creates a restore keeps in flight when the user did not fix the number: as many as
// the API server takes without slowing down. A fixed 16 is too few for a large control plane
// and too many for a throttled one (API Priority and Fairness rejects what its priority level
// cannot seat with 429, and retrying 16 at a time keeps it rejecting). Additive increase while
// latency holds, multiplicative decrease when it grows or the server throttles, as TCP does.
// Pure: the caller reports latencies and throttling, with the time.

/** `--concurrency auto`: where the restore's limit starts, and the most it goes to. */
export const AUTO_CONCURRENCY = { initial: 16, min: 1, max: 64 } as const;

export interface AdaptiveOptions {
  initial: number;
  min: number;
  max: number;
}

/** A response this many times slower than the fastest recent one means the server is queueing. */
const SLOWDOWN = 2;
/** Milliseconds of latency below which a slowdown is noise (a local server answers in 1–3 ms). */
const NOISE_MS = 10;

export class AdaptiveLimit {
  private limit: number;
  /** The fastest recent latency: what the server takes when it is not queueing. */
  private baseline?: number;
  /** Until the first sign of congestion the limit grows by one per success (doubling per round). */
  private slowStart = true;
  /** Successes since the last decrease: one decrease per round of `limit` requests. */
  private sinceDecrease = Number.POSITIVE_INFINITY;
  private pausedUntil = 0;

  constructor(private readonly o: AdaptiveOptions) {
    this.limit = clamp(o.initial, o.min, o.max);
  }

  /** Requests to keep in flight now. */
  get current(): number {
    return clamp(Math.floor(this.limit), this.o.min, this.o.max);
  }

  /** Milliseconds before another request may start (a Retry-After the server gave). */
  pauseLeft(now: number): number {
    return Math.max(0, this.pausedUntil - now);
  }

  /** A request answered in `latencyMs`. */
  answered(latencyMs: number): void {
    // The baseline drifts up slowly, so a server that got slower for good is followed.
    this.baseline =
      this.baseline === undefined
        ? latencyMs
        : Math.min(latencyMs, this.baseline + (latencyMs - this.baseline) * 0.01);
    this.sinceDecrease++;
    if (latencyMs > SLOWDOWN * this.baseline + NOISE_MS) {
      this.decrease(0.9);
      return;
    }
    this.limit += this.slowStart ? 1 : 1 / this.limit;
    this.limit = Math.min(this.limit, this.o.max);
  }

  /** The server refused a request for load (429), asking to wait `retryAfterMs` if it said. */
  throttled(now: number, retryAfterMs?: number): void {
    this.sinceDecrease++;
    // Fewer in flight is the answer while there can be fewer; at the minimum, only waiting is.
    // (Pausing every start for one rejection would leave the seats the server has idle.)
    const atMinimum = this.current <= this.o.min;
    this.decrease(0.5);
    if (atMinimum && retryAfterMs !== undefined && retryAfterMs > 0)
      this.pausedUntil = Math.max(this.pausedUntil, now + retryAfterMs);
  }

  private decrease(factor: number): void {
    this.slowStart = false;
    // Requests already in flight when the first answer said "slow down" say it too: once a round.
    if (this.sinceDecrease < this.current) return;
    this.limit = Math.max(this.o.min, this.limit * factor);
    this.sinceDecrease = 0;
  }
}

function clamp(v: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, v));
}

/**
 * The adaptive limit as a gate for request attempts: an attempt waits for a slot and gives it
 * back when answered. A request that sleeps before a retry holds no slot, so the server's
 * seats are offered to requests ready to go rather than kept for ones that are waiting.
 */
export class AdaptiveGate {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    readonly limit: AdaptiveLimit,
    private readonly now: () => number = Date.now,
  ) {}

  acquire(): Promise<void> {
    if (this.waiting.length === 0 && this.free()) {
      this.inFlight++;
      return Promise.resolve();
    }
    const slot = new Promise<void>((resolve) => this.waiting.push(resolve));
    this.drain();
    return slot;
  }

  release(): void {
    this.inFlight--;
    this.drain();
  }

  /** Attempts in flight now (for tests and the report). */
  get active(): number {
    return this.inFlight;
  }

  private free(): boolean {
    return this.limit.pauseLeft(this.now()) === 0 && this.inFlight < this.limit.current;
  }

  private drain(): void {
    while (this.waiting.length > 0 && this.free()) {
      this.inFlight++;
      this.waiting.shift()?.();
    }
    // Paused by a Retry-After with nothing in flight to release a slot later: wake up then.
    const pause = this.limit.pauseLeft(this.now());
    if (this.waiting.length > 0 && pause > 0 && !this.timer)
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.drain();
      }, pause);
  }
}
