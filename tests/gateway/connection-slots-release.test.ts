import { afterAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { RedisConnectionSlots } from '@chat/redis';
import { describeWithServices, REDIS, TEST_REDIS_URL } from '../support/services.ts';

const describe = await describeWithServices(REDIS);

const slots = new RedisConnectionSlots({ url: TEST_REDIS_URL, ttlMs: 30_000 });

afterAll(() => slots.close());

describe('RedisConnectionSlots.release in a mass close', () => {
  it('gives back every lease released in one turn, over more keys than one call takes', async () => {
    const run = randomUUID();
    const shared = [0, 1, 2].map((i) => `limits:connections:ip:{test-${run}-${String(i)}}`);
    const holders = Array.from({ length: 1_200 }, (_, i) => ({ holder: `c${String(i)}`, user: `limits:connections:user:{test-${run}-${String(i)}}`, ip: shared[i % 3] ?? '' }));
    for (const { holder, user, ip } of holders) expect(await slots.acquireAll(holder, [{ key: user, max: 1 }, { key: ip, max: 400 }])).toBe(true);
    // Full under every key now.
    expect(await slots.acquireAll('late', [{ key: shared[0] ?? '', max: 400 }])).toBe(false);
    await Promise.all(holders.flatMap(({ holder, user, ip }) => [slots.release(user, holder), slots.release(ip, holder)]));
    for (const { user } of holders.filter((_h, i) => i % 97 === 0)) expect(await slots.acquireAll('next', [{ key: user, max: 1 }])).toBe(true);
    for (const ip of shared) expect(await slots.acquireAll('next', [{ key: ip, max: 1 }])).toBe(true);
  });
});
