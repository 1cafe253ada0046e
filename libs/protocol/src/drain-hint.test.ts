import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { drainCloseReason, drainHintOf, MAX_DRAIN_HINT_MS, spreadDrainDelays } from './drain-hint.ts';

describe('drain hint', () => {
  it('reads back the delay it wrote, capped, and the reason fits a close frame', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), (ms) => {
        const reason = drainCloseReason(ms);
        expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
        expect(drainHintOf(reason)).toBe(Math.min(ms, MAX_DRAIN_HINT_MS));
      }),
    );
  });

  it('finds no delay in reasons that do not carry one', () => {
    for (const reason of ['', 'server restarting', 'reconnect-in=', 'reconnect-in=-5', 'reconnect-in=12ms', 'xreconnect-in=5', 'reconnect-in=1e3']) {
      expect(drainHintOf(reason)).toBeUndefined();
    }
    fc.assert(fc.property(fc.string().filter((s) => !s.includes('reconnect-in=')), (reason) => expect(drainHintOf(reason)).toBeUndefined()));
  });

  it('spreads delays evenly over the window, each socket its own, in random order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 60_000 }), (count, windowMs) => {
        const delays = spreadDrainDelays(count, windowMs);
        const sorted = [...delays].sort((a, b) => a - b);
        // A permutation of even steps: sockets i and j of a drain wait (j - i) / count of the window apart.
        expect(sorted).toEqual(Array.from({ length: count }, (_, i) => (count <= 1 ? 0 : Math.round((windowMs * i) / count))));
        expect(sorted.at(-1) ?? 0).toBeLessThanOrEqual(windowMs);
      }),
    );
    const shuffled = spreadDrainDelays(100, 10_000);
    expect(shuffled).not.toEqual([...shuffled].sort((a, b) => a - b));
  });
});
