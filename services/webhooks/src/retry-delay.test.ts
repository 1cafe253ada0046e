import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { retryDelayMs } from './retry-delay.ts';

describe('the retry delay', () => {
  it('doubles per attempt from the base, up to the cap, jittered between half and all of the step', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 1000, 5000, () => 1))).toEqual([1000, 2000, 4000, 5000]);
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 1000, 5000, () => 0))).toEqual([500, 1000, 2000, 2500]);
  });

  it('stays within half the step and the cap for any attempt and random draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 10, max: 10_000 }), fc.integer({ min: 10, max: 1_000_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, base, max, draw) => {
        const step = Math.min(max, base * 2 ** (attempt - 1));
        const delay = retryDelayMs(attempt, base, max, () => draw);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(step / 2));
        expect(delay).toBeLessThanOrEqual(Math.min(max, step));
      }),
    );
  });
});
