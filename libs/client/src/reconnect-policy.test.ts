import { describe, expect, it, jest } from '@jest/globals';
import { ReconnectPolicy, type ReconnectStep } from './reconnect-policy.ts';

/** Runs with Math.random pinned, so each jittered delay is a known fraction of its bound. */
function withRandom<T>(value: number, run: () => T): T {
  const spy = jest.spyOn(Math, 'random').mockReturnValue(value);
  try {
    return run();
  } finally {
    spy.mockRestore();
  }
}

function steps(policy: ReconnectPolicy, count: number): ReconnectStep[] {
  return Array.from({ length: count }, () => policy.next());
}

describe('ReconnectPolicy', () => {
  it('draws each delay below a bound that doubles up to the maximum', () => {
    const policy = new ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1_000 });
    const bounds = [100, 200, 400, 800, 1_000, 1_000];
    for (const [index, bound] of bounds.entries()) {
      const step = policy.next();
      expect(step.attempt).toBe(index + 1);
      expect(step.delayMs).toBeGreaterThanOrEqual(0);
      expect(step.delayMs).toBeLessThan(bound);
    }
  });

  it('backs off: at the top of the jitter range each delay reaches just under its doubled bound', () => {
    const taken = withRandom(0.999, () => steps(new ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1_000 }), 6));
    expect(taken).toEqual([
      { attempt: 1, delayMs: 99 },
      { attempt: 2, delayMs: 199 },
      { attempt: 3, delayMs: 399 },
      { attempt: 4, delayMs: 799 },
      { attempt: 5, delayMs: 999 },
      { attempt: 6, delayMs: 999 },
    ]);
  });

  it('draws each delay as that fraction of its bound (full jitter, from 0 up)', () => {
    for (const random of [0, 0.25, 0.5]) {
      const delays = withRandom(random, () => steps(new ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1_000 }), 5)).map((step) => step.delayMs);
      expect(delays).toEqual([100, 200, 400, 800, 1_000].map((bound) => Math.floor(random * bound)));
    }
  });

  it('spreads delays out instead of repeating one value (full jitter)', () => {
    const delays = new Set(Array.from({ length: 20 }, () => new ReconnectPolicy({ initialDelayMs: 10_000 }).next().delayMs));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('starts over from the first bound after a reset', () => {
    const { before, after } = withRandom(0.999, () => {
      const policy = new ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 100_000 });
      const before = steps(policy, 8).at(-1);
      policy.reset();
      return { before, after: policy.next() };
    });
    expect(before).toEqual({ attempt: 8, delayMs: 12_787 });
    expect(after).toEqual({ attempt: 1, delayMs: 99 });
  });
});
