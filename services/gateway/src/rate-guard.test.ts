import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { InvalidFrameBudget, RateGuard } from './rate-guard.ts';

// The buckets refill from performance.now(); a fake clock makes every count exact, however slow the machine.
beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('RateGuard', () => {
  it('allows a full burst at once, then limits, then tells a client that keeps pushing to go', () => {
    const guard = new RateGuard({ ratePerSec: 1, burst: 3 });
    expect([guard.take(), guard.take(), guard.take()]).toEqual(['ok', 'ok', 'ok']);
    expect([guard.take(), guard.take(), guard.take()]).toEqual(['limited', 'limited', 'limited']);
    expect(guard.take()).toBe('exceeded');
    expect(guard.take()).toBe('exceeded');
  });

  it('refills one frame per 1/rate seconds, and not before', () => {
    const guard = new RateGuard({ ratePerSec: 50, burst: 1 });
    expect(guard.take()).toBe('ok');
    expect(guard.take()).toBe('limited');
    jest.advanceTimersByTime(19);
    // The refused frame above spent the strike bucket too, which has not refilled either.
    expect(guard.take()).toBe('exceeded');
    jest.advanceTimersByTime(1);
    expect(guard.take()).toBe('ok');
    expect(guard.take()).toBe('limited');
  });

  it('lets a client that stays at the rate go on for ever, and refills no more than the burst', () => {
    const guard = new RateGuard({ ratePerSec: 10, burst: 2 });
    for (let i = 0; i < 100; i++) {
      expect(guard.take()).toBe('ok');
      jest.advanceTimersByTime(100);
    }
    jest.advanceTimersByTime(60_000);
    expect([guard.take(), guard.take(), guard.take()]).toEqual(['ok', 'ok', 'limited']);
  });
});

describe('InvalidFrameBudget', () => {
  it('spends a burst, then refills one a second', () => {
    const budget = new InvalidFrameBudget(2);
    expect([budget.spend(), budget.spend(), budget.spend()]).toEqual([true, true, false]);
    jest.advanceTimersByTime(999);
    expect(budget.spend()).toBe(false);
    jest.advanceTimersByTime(1);
    expect(budget.spend()).toBe(true);
  });
});
