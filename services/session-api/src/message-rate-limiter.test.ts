import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { MemoryUserRateLimiter, userRateKey } from '@chat/core';
import { MessageRateLimiter } from './message-rate-limiter.ts';

async function takeMany(limiter: MessageRateLimiter, caller: string, count: number): Promise<boolean[]> {
  const allowed: boolean[] = [];
  for (let i = 0; i < count; i++) allowed.push((await limiter.take(caller)).allowed);
  return allowed;
}

describe('MessageRateLimiter', () => {
  it('allows a burst, refuses beyond it with a wait, and allows the sustained rate again a second later', async () => {
    let now = 1_000_000;
    const limiter = new MessageRateLimiter({ perSec: 5, burst: 10, limiter: new MemoryUserRateLimiter({ now: () => now }) });
    const caller = randomUUID();
    expect(await takeMany(limiter, caller, 10)).toEqual(Array.from({ length: 10 }, () => true));
    const refused = await limiter.take(caller);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBe(200);

    now += 1_100;
    expect(await takeMany(limiter, caller, 6)).toEqual([true, true, true, true, true, false]);
    now += 100;
    expect(await takeMany(limiter, caller, 2)).toEqual([true, false]);
  });

  it('counts each caller separately', async () => {
    const limiter = new MessageRateLimiter({ perSec: 1, burst: 1 });
    const [a, b] = [randomUUID(), randomUUID()];
    expect(await takeMany(limiter, a, 2)).toEqual([true, false]);
    expect(await takeMany(limiter, b, 1)).toEqual([true]);
  });

  it('draws on the same per-user budget as WebSocket sends', async () => {
    const shared = new MemoryUserRateLimiter({ now: () => 0 });
    const limiter = new MessageRateLimiter({ perSec: 1, burst: 2, limiter: shared });
    const caller = randomUUID();
    expect((await shared.take(userRateKey('sends', caller), { perSec: 1, burst: 2 })).allowed).toBe(true);
    expect(await takeMany(limiter, caller, 2)).toEqual([true, false]);
  });
});
