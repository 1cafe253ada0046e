import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from '@jest/globals';
import { closeRedis, connectRedis } from '@chat/core';
import { MessageRateLimiter } from '@chat/session-api';
import { describeWithServices, REDIS, TEST_REDIS_URL } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const describe = await describeWithServices(REDIS);

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A connected client: until it is ready the limiter counts in memory. */
async function redisAt(url: string) {
  const redis = connectRedis({ url });
  closers.push(() => closeRedis(redis));
  await redis.ping();
  return redis;
}

async function allowedOf(limiter: MessageRateLimiter, caller: string, count: number): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < count; i++) if ((await limiter.take(caller)).allowed) allowed++;
  return allowed;
}

describe('the posted-message rate limit over Redis', () => {
  it('is shared by every replica: two limiters on one Redis allow one burst between them', async () => {
    const caller = randomUUID();
    const replicaA = new MessageRateLimiter({ perSec: 2, burst: 4, redis: await redisAt(TEST_REDIS_URL) });
    const replicaB = new MessageRateLimiter({ perSec: 2, burst: 4, redis: await redisAt(TEST_REDIS_URL) });
    expect(await allowedOf(replicaA, caller, 3)).toBe(3);
    expect(await allowedOf(replicaB, caller, 3)).toBe(1);
    expect((await replicaA.take(caller)).allowed).toBe(false);
    expect(await allowedOf(replicaB, randomUUID(), 1)).toBe(1);
  });

  it('keeps limiting in each process while Redis is unreachable', async () => {
    const target = new URL(TEST_REDIS_URL);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.start();
    closers.push(() => proxy.stop());
    const limiter = new MessageRateLimiter({ perSec: 2, burst: 3, redis: await redisAt(`redis://127.0.0.1:${proxy.port}`) });
    expect((await limiter.take(randomUUID())).allowed).toBe(true);

    await proxy.cut({ stopListening: true });
    const caller = randomUUID();
    const started = Date.now();
    expect(await allowedOf(limiter, caller, 5)).toBe(3);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
