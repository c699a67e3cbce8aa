// The benchmark's core split (bench/pin.ts): which cores the control plane and the client get.
import { describe, expect, it } from 'vitest';
import { describePinning, parseCpuList, planPinning } from '../../bench/pin.js';

describe('the benchmark pinning', () => {
  it('reads a kernel CPU list of ranges and single cores', () => {
    expect(parseCpuList('0-3,6,8-9\n')).toEqual([0, 1, 2, 3, 6, 8, 9]);
    expect(parseCpuList('1')).toEqual([1]);
  });

  it('gives the client the upper half of the cores and the server the rest', () => {
    expect(planPinning('default', [0, 1], true)).toEqual({
      mode: 'pinned',
      server: [0],
      client: [1],
    });
    expect(planPinning('pin', [0, 1, 2, 3, 4], true)).toEqual({
      mode: 'pinned',
      server: [0, 1, 2],
      client: [3, 4],
    });
  });

  it('shares the cores, saying why, with --no-pin, one core or no taskset', () => {
    expect(planPinning('no-pin', [0, 1], true)).toMatchObject({ mode: 'shared', why: '--no-pin' });
    expect(planPinning('pin', [0], true)).toMatchObject({ mode: 'shared', why: 'only 1 core' });
    const noTaskset = planPinning('default', [0, 1], false);
    expect(describePinning(noTaskset)).toBe(
      'shared: everything on cores 0,1 (taskset (util-linux) is not on PATH)',
    );
  });
});
