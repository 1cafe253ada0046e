import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { MessageRateLimiter } from './message-rate-limiter.ts';

async function takeMany(limiter: MessageRateLimiter, caller: string, count: number): Promise<boolean[]> {
  const allowed: boolean[] = [];
  for (let i = 0; i < count; i++) allowed.push((await limiter.take(caller)).allowed);
  return allowed;
}

describe('MessageRateLimiter', () => {
  it('allows a burst, refuses beyond it with a wait, and allows the sustained rate again a second later', async () => {
    const limiter = new MessageRateLimiter({ perSec: 5, burst: 10 });
    const caller = randomUUID();
    expect(await takeMany(limiter, caller, 10)).toEqual(Array.from({ length: 10 }, () => true));
    const refused = await limiter.take(caller);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(1000);

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await takeMany(limiter, caller, 6)).toEqual([true, true, true, true, true, false]);
  });

  it('counts each caller separately', async () => {
    const limiter = new MessageRateLimiter({ perSec: 1, burst: 1 });
    const [a, b] = [randomUUID(), randomUUID()];
    expect(await takeMany(limiter, a, 2)).toEqual([true, false]);
    expect(await takeMany(limiter, b, 1)).toEqual([true]);
  });
});
