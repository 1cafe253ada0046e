import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { connectRedis } from '@chat/redis';
import type { Redis } from 'ioredis';
import { describeWithServices, REDIS, TEST_REDIS_URL } from '../support/services.ts';

const target = new URL(TEST_REDIS_URL);

/** Counts the writes a connection's socket hands to the kernel (one per writev or write). */
function countWrites(redis: Redis): { count: () => number } {
  const socket = redis.stream as unknown as { _writev: (...args: unknown[]) => unknown; _write: (...args: unknown[]) => unknown };
  let writes = 0;
  const writev = socket._writev.bind(socket);
  const write = socket._write.bind(socket);
  socket._writev = (...args) => {
    writes += 1;
    return writev(...args);
  };
  socket._write = (...args) => {
    writes += 1;
    return write(...args);
  };
  return { count: () => writes };
}

(await describeWithServices({ ...REDIS, host: target.hostname, port: Number(target.port || 6379) }))('a plain Redis connection', () => {
  let redis: Redis;

  beforeAll(async () => {
    redis = connectRedis({ url: TEST_REDIS_URL });
    await redis.ping();
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('sends the commands of one turn of the event loop in one write, answered in the order sent', async () => {
    const key = `turn-batch:${randomUUID()}`;
    const writes = countWrites(redis);
    const replies = Promise.all([redis.rpush(key, 'a'), redis.rpush(key, 'b'), redis.lrange(key, 0, -1), redis.eval("return redis.call('LLEN', KEYS[1])", 1, key), redis.del(key)]);
    // Nothing has left yet: the socket holds the turn's commands until the turn ends.
    expect(writes.count()).toBe(0);
    expect(await replies).toEqual([1, 2, ['a', 'b'], 2, 1]);
    expect(writes.count()).toBe(1);
    // A command of a later turn leaves in a write of its own.
    expect(await redis.exists(key)).toBe(0);
    expect(writes.count()).toBe(2);
  });

  it('still answers commands sent before it was ready, and a failing one fails alone', async () => {
    const fresh = connectRedis({ url: TEST_REDIS_URL });
    try {
      const key = `turn-batch:${randomUUID()}`;
      const [set, broken, read] = await Promise.allSettled([fresh.set(key, 'v', 'PX', 10_000), fresh.eval('this is not lua', 0), fresh.get(key)]);
      expect(set).toEqual({ status: 'fulfilled', value: 'OK' });
      expect(broken.status).toBe('rejected');
      expect(read).toEqual({ status: 'fulfilled', value: 'v' });
    } finally {
      await fresh.quit();
    }
  });
});
