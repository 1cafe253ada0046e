import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { MessageRateLimiter } from './message-rate-limiter.ts';

async function takeMany(limiter: MessageRateLimiter, caller: string, count: number): Promise<boolean[]> {
  const allowed: boolean[] = [];
  for (let i = 0; i < count; i++) allowed.push((await limiter.take(caller)).allowed);
  return allowed;
}

const all = (count: number, value: boolean) => Array.from({ length: count }, () => value);

// The in-memory counters read Date.now(); a fake clock makes each window's count exact, however slow the machine.
beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00.000Z') });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('MessageRateLimiter', () => {
  it('allows a burst, refuses beyond it with the wait to the next window, and allows the sustained rate a second later', async () => {
    const limiter = new MessageRateLimiter({ perSec: 5, burst: 10 });
    const caller = randomUUID();
    expect(await takeMany(limiter, caller, 10)).toEqual(all(10, true));
    jest.advanceTimersByTime(400);
    const refused = await limiter.take(caller);
    expect(refused).toEqual({ allowed: false, retryAfterMs: 600 });

    jest.advanceTimersByTime(599);
    expect(await limiter.take(caller)).toEqual({ allowed: false, retryAfterMs: 1 });
    jest.advanceTimersByTime(1);
    // A new second: the sustained five again, the burst allowance still spent until its own window ends.
    expect(await takeMany(limiter, caller, 6)).toEqual([...all(5, true), false]);
  });

  it('gives the burst allowance back once the time to send it at the sustained rate has passed', async () => {
    const limiter = new MessageRateLimiter({ perSec: 5, burst: 10 });
    const caller = randomUUID();
    expect(await takeMany(limiter, caller, 11)).toEqual([...all(10, true), false]);
    jest.advanceTimersByTime(2_000);
    expect(await takeMany(limiter, caller, 11)).toEqual([...all(10, true), false]);
  });

  it('counts each caller separately', async () => {
    const limiter = new MessageRateLimiter({ perSec: 1, burst: 1 });
    const [a, b] = [randomUUID(), randomUUID()];
    expect(await takeMany(limiter, a, 2)).toEqual([true, false]);
    expect(await takeMany(limiter, b, 1)).toEqual([true]);
    expect(await takeMany(limiter, a, 1)).toEqual([false]);
  });
});
