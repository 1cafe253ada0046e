import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { drainWaitMs } from './managed-socket.ts';

describe('drainWaitMs', () => {
  it('waits at least the hint and at most 10 % (never more than 1 s) longer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (hint, draw) => {
        const wait = drainWaitMs(hint, () => draw);
        expect(wait).toBeGreaterThanOrEqual(hint);
        expect(wait).toBeLessThanOrEqual(hint + Math.min(1_000, hint * 0.1) + 0.5);
      }),
    );
  });

  it('spreads clients told the same moment', () => {
    const waits = new Set(Array.from({ length: 50 }, () => drainWaitMs(5_000)));
    expect(waits.size).toBeGreaterThan(10);
  });
});
