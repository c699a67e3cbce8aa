// The adaptive restore concurrency (core/adaptive.ts) and the pool that follows it.
import { describe, expect, it } from 'vitest';
import { AdaptiveLimit } from '../../src/core/adaptive.js';
import { mapAdaptive } from '../../src/core/pool.js';

const limit = (initial = 16, max = 64) => new AdaptiveLimit({ initial, min: 1, max });

describe('the adaptive limit', () => {
  it('doubles per round while the server answers as fast as before, up to its maximum', () => {
    const l = limit(4);
    for (let i = 0; i < 4; i++) l.answered(5);
    expect(l.current).toBe(8);
    for (let i = 0; i < 200; i++) l.answered(5);
    expect(l.current).toBe(64);
  });

  it('backs off by a tenth once per round when answers slow down, then grows one per round', () => {
    const l = limit(20);
    for (let i = 0; i < 20; i++) l.answered(20); // 40: slow start up to here
    expect(l.current).toBe(40);
    l.answered(200); // the server queues
    expect(l.current).toBe(36);
    l.answered(200); // the rest of the same round says the same: no second cut
    expect(l.current).toBe(36);
    for (let i = 0; i < 37; i++) l.answered(20); // one round at the old speed
    expect(l.current).toBe(37);
  });

  it('ignores slowdowns smaller than the noise of a fast local server', () => {
    const l = limit(8);
    l.answered(1);
    l.answered(8); // 8x slower, but 8 ms
    expect(l.current).toBe(10);
  });

  it('halves on a 429, once per round, and never goes below its minimum', () => {
    const l = limit(32);
    l.throttled(1000, 2000);
    expect(l.current).toBe(16);
    // The other seats of the server stay in use: one rejection pauses nothing.
    expect(l.pauseLeft(1500)).toBe(0);
    for (let i = 0; i < 16; i++) l.throttled(4000);
    expect(l.current).toBe(8);
  });

  it('at its minimum, waits the Retry-After the server gave before starting another', () => {
    const l = limit(1);
    l.throttled(1000, 2000);
    expect(l.current).toBe(1);
    expect(l.pauseLeft(1500)).toBe(1500);
    expect(l.pauseLeft(3000)).toBe(0);
  });
});

describe('mapAdaptive', () => {
  /** A task that records how many run at once, settling when released. */
  function tracked() {
    let running = 0;
    const peaks: number[] = [];
    const release: (() => void)[] = [];
    const fn = async (n: number) => {
      running++;
      peaks.push(running);
      await new Promise<void>((r) => release.push(r));
      running--;
      return n * 2;
    };
    return { fn, peaks, release };
  }

  it('keeps as many in flight as the limit says when each starts, and answers in order', async () => {
    const l = { current: 2, pauseLeft: () => 0 };
    const t = tracked();
    const done = mapAdaptive([1, 2, 3, 4, 5], l, t.fn);
    await Promise.resolve();
    expect(t.peaks).toEqual([1, 2]);
    l.current = 4;
    t.release.shift()?.();
    await new Promise((r) => setTimeout(r, 0));
    expect(Math.max(...t.peaks)).toBe(4);
    while (t.release.length > 0) {
      t.release.shift()?.();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(await done).toEqual([2, 4, 6, 8, 10]);
  });

  it('starts nothing while the server asked for a pause, then goes on', async () => {
    let pausedUntil = Date.now() + 30;
    const l = { current: 4, pauseLeft: (now: number) => Math.max(0, pausedUntil - now) };
    const started: number[] = [];
    const out = await mapAdaptive([1, 2], l, async (n) => {
      started.push(Date.now());
      pausedUntil = 0;
      return n;
    });
    expect(out).toEqual([1, 2]);
    expect(started.length).toBe(2);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const l = { current: 1, pauseLeft: () => 0 };
    const seen: number[] = [];
    await expect(
      mapAdaptive([1, 2, 3], l, async (n) => {
        seen.push(n);
        if (n === 2) throw new Error('boom');
        return n;
      }),
    ).rejects.toThrow('boom');
    expect(seen).toEqual([1, 2]);
  });

  it('answers an empty list at once', async () => {
    expect(await mapAdaptive([], { current: 0, pauseLeft: () => 0 }, async () => 1)).toEqual([]);
  });
});
