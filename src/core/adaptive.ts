// How many creates a restore keeps in flight when the user did not fix the number: as many as
// the API server takes without slowing down. A fixed 16 is too few for a large control plane
// and too many for a throttled one (API Priority and Fairness rejects what its priority level
// cannot seat with 429, and retrying 16 at a time keeps it rejecting). Additive increase while
// a round's latency holds, multiplicative decrease when it grows or the server throttles, as
// TCP does.
// Pure: the caller reports latencies and throttling, with the time.

/** `--concurrency auto`: where the restore's limit starts, and the most it goes to. */
export const AUTO_CONCURRENCY = { initial: 16, min: 1, max: 64 } as const;

export interface AdaptiveOptions {
  initial: number;
  min: number;
  max: number;
}

/** A round this many times slower than the fastest recent one means the server is queueing. */
const SLOWDOWN = 2;
/** Milliseconds of latency below which a slowdown is noise (a local server answers in 1–3 ms). */
const NOISE_MS = 10;
/** Rounds the fastest one is remembered for: a server that got slower for good is followed. */
const BASELINE_ROUNDS = 8;

export class AdaptiveLimit {
  private limit: number;
  /** Latencies of the round being answered: one round is `current` answers. */
  private round: number[] = [];
  /** Median latency of each recent round, newest last. */
  private recent: number[] = [];
  /** Until the first sign of congestion the limit doubles per round. */
  private slowStart = true;
  /** Answers and 429s since the last halving: at most one halving per round of `limit` requests. */
  private sinceHalving = Number.POSITIVE_INFINITY;
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
    this.sinceHalving++;
    this.round.push(latencyMs);
    if (this.round.length < this.current) return;
    // A round is judged by its median: creates of different kinds and sizes take from 2 to
    // 200 ms on a busy server, and one slow answer per round would otherwise ratchet the
    // limit down round after round.
    const median = medianOf(this.round);
    this.round = [];
    const baseline = Math.min(median, ...this.recent);
    this.recent = [...this.recent, median].slice(-BASELINE_ROUNDS);
    if (median > SLOWDOWN * baseline + NOISE_MS) {
      this.slowStart = false;
      // Slower answers from a server that does not refuse are no reason to send fewer than
      // the start (a fixed 16 is what it takes without complaint): below it, only 429s go.
      this.limit = Math.max(this.limit * 0.9, Math.min(this.limit, this.o.initial));
    } else this.limit = Math.min(this.o.max, this.slowStart ? this.limit * 2 : this.limit + 1);
  }

  /** The server refused a request for load (429), asking to wait `retryAfterMs` if it said. */
  throttled(now: number, retryAfterMs?: number): void {
    this.sinceHalving++;
    this.slowStart = false;
    // Fewer in flight is the answer while there can be fewer; at the minimum, only waiting is.
    // (Pausing every start for one rejection would leave the seats the server has idle.)
    const atMinimum = this.current <= this.o.min;
    // Requests already in flight when the first 429 came say it too: once a round.
    if (this.sinceHalving >= this.current) {
      this.limit = Math.max(this.o.min, this.limit * 0.5);
      this.sinceHalving = 0;
      this.round = [];
    }
    if (atMinimum && retryAfterMs !== undefined && retryAfterMs > 0)
      this.pausedUntil = Math.max(this.pausedUntil, now + retryAfterMs);
  }
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
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
