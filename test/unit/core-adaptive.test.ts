// The adaptive restore concurrency (core/adaptive.ts): the limit and the gate of attempts.
import { describe, expect, it } from 'vitest';
import { AdaptiveGate, AdaptiveLimit } from '../../src/core/adaptive.js';

const limit = (initial = 16, max = 64) => new AdaptiveLimit({ initial, min: 1, max });

/** One round of answers: as many as the limit lets in flight, each taking `ms`. */
function answerRound(l: AdaptiveLimit, ms: number): void {
  const n = l.current;
  for (let i = 0; i < n; i++) l.answered(ms);
}

describe('the adaptive limit', () => {
  it('doubles per round while the server answers as fast as before, up to its maximum', () => {
    const l = limit(4);
    for (let i = 0; i < 4; i++) l.answered(5);
    expect(l.current).toBe(8);
    for (let i = 0; i < 200; i++) l.answered(5);
    expect(l.current).toBe(64);
  });

  it('backs off by a tenth when a round is twice as slow as the fastest recent one, then grows one per round', () => {
    const l = limit(20, 128);
    answerRound(l, 20); // slow start: 40
    answerRound(l, 20); // 80
    expect(l.current).toBe(80);
    answerRound(l, 200); // the server queues
    expect(l.current).toBe(72);
    answerRound(l, 20); // a round at the old speed
    expect(l.current).toBe(73);
  });

  it('judges a round by its median: a few slow answers in each round cut nothing', () => {
    const l = limit(16);
    for (let round = 0; round < 30; round++) {
      const n = l.current;
      for (let i = 0; i < n; i++) l.answered(i % 8 === 0 ? 400 : 25);
    }
    expect(l.current).toBe(64);
  });

  it('never goes below where it started for slow answers alone: only 429s take it lower', () => {
    const l = limit(16);
    answerRound(l, 10); // 32
    // Every round four times slower than the one before: a tenth less each time, down to 16.
    for (let k = 1; k <= 12; k++) answerRound(l, 10 * 4 ** k);
    expect(l.current).toBe(16);
    l.throttled(0);
    expect(l.current).toBe(8);
    answerRound(l, 10 * 4 ** 14); // slower still, but below the start it takes a 429
    expect(l.current).toBe(8);
  });

  it('follows a server that got slower for good: after a few rounds, the slower speed is the baseline', () => {
    const l = limit(16, 128);
    answerRound(l, 10); // 32
    answerRound(l, 100); // slower: 28.8
    for (let i = 0; i < 8; i++) answerRound(l, 100);
    const settled = l.current;
    answerRound(l, 100);
    expect(l.current).toBe(settled + 1);
  });

  it('ignores slowdowns smaller than the noise of a fast local server', () => {
    const l = limit(8);
    answerRound(l, 1); // 16
    answerRound(l, 8); // 8x slower, but 8 ms: 32
    expect(l.current).toBe(32);
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

describe('the adaptive gate of request attempts', () => {
  const settled = () => new Promise((r) => setTimeout(r, 0));

  it('lets as many attempts in as the limit says; the next one when one is answered', async () => {
    const gate = new AdaptiveGate(limit(2));
    const admitted: number[] = [];
    for (let i = 0; i < 4; i++) void gate.acquire().then(() => admitted.push(i));
    await settled();
    expect(admitted).toEqual([0, 1]);
    gate.release();
    await settled();
    expect(admitted).toEqual([0, 1, 2]);
    expect(gate.active).toBe(2);
  });

  it('admits more once the limit grows, fewer after a 429', async () => {
    const gate = new AdaptiveGate(limit(2));
    const admitted: number[] = [];
    for (let i = 0; i < 8; i++) void gate.acquire().then(() => admitted.push(i));
    await settled();
    gate.limit.answered(5);
    gate.limit.answered(5); // slow start: 4
    gate.release();
    await settled();
    expect(gate.active).toBe(4);
    gate.limit.throttled(Date.now()); // 2: no new attempt until two are answered
    gate.release();
    gate.release();
    await settled();
    expect(gate.active).toBe(2);
  });

  it('at its minimum, holds waiting attempts for the Retry-After, then lets them go', async () => {
    let now = 0;
    const gate = new AdaptiveGate(limit(1), () => now);
    await gate.acquire();
    gate.limit.throttled(now, 20);
    let admitted = false;
    void gate.acquire().then(() => {
      admitted = true;
    });
    gate.release();
    await settled();
    expect(admitted).toBe(false);
    now = 25;
    await new Promise((r) => setTimeout(r, 40));
    expect(admitted).toBe(true);
  });
});
