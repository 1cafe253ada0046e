import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { RedisConnectionSlots } from '@chat/redis';
import { describeWithServices, REDIS, TEST_REDIS_URL } from '../support/services.ts';

const describe = await describeWithServices(REDIS);

let now = 1_000_000;
const replicas: RedisConnectionSlots[] = [];

beforeAll(() => {
  // Two replicas' views of the same Redis, on a clock the test moves.
  for (let i = 0; i < 2; i++) replicas.push(new RedisConnectionSlots({ url: TEST_REDIS_URL, ttlMs: 30_000, now: () => now }));
});

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.close()));
});

describe('RedisConnectionSlots (finding 3)', () => {
  it('counts one user across replicas, gives a slot back on release, and lets a crashed replica lease lapse', async () => {
    const [a, b] = replicas;
    if (!a || !b) throw new Error('two replicas expected');
    const key = `limits:connections:user:{test-${randomUUID()}}`;
    expect(await a.acquire(key, 'c1', 2)).toBe(true);
    expect(await b.acquire(key, 'c2', 2)).toBe(true);
    expect(await b.acquire(key, 'c3', 2)).toBe(false);
    await a.release(key, 'c1');
    expect(await b.acquire(key, 'c3', 2)).toBe(true);
    // c2's replica stops refreshing (crashed); c3's keeps refreshing.
    now += 20_000;
    await b.refresh([{ key, holder: 'c3' }]);
    now += 20_000;
    expect(await a.acquire(key, 'c4', 2)).toBe(true);
    expect(await a.acquire(key, 'c5', 2)).toBe(false);
    for (const holder of ['c3', 'c4']) await a.release(key, holder);
  });
});
