// The adaptive restore concurrency (core/adaptive.ts): the limit and the gate of attempts.
import { describe, expect, it } from 'vitest';
import { AdaptiveGate, AdaptiveLimit } from '../../src/core/adaptive.js';

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
