import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisBus } from '@chat/redis';
import { OwnRedis } from '../support/own-redis.ts';
import { onFreePort } from '../support/ports.ts';
import { describeWithServices, REDIS } from '../support/services.ts';

let redis: OwnRedis;
let admin: Redis;
const unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  redis = await onFreePort(async (port) => {
    const own = new OwnRedis(port);
    await own.start();
    return own;
  });
  admin = new Redis(redis.url);
  process.on('unhandledRejection', record);
});

afterAll(async () => {
  process.off('unhandledRejection', record);
  admin.disconnect();
  await redis.stop();
});

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

(await describeWithServices(REDIS))('Redis bus when its resubscribe after a reconnect fails', () => {
  it('neither ends the process with an unhandled rejection nor stays deaf: readiness is false until it hears again', async () => {
    const bus = new RedisBus({ url: redis.url, probeTimeoutMs: 500 });
    const heard: string[] = [];
    const sessionId = randomUUID();
    await bus.subscribe(sessionId, (payload) => heard.push(payload));
    await bus.publish(sessionId, 'before');
    await eventually(() => heard.includes('before'));

    // Taking pub/sub rights away makes Redis drop the subscriber, and refuse its resubscribe.
    await admin.call('ACL', 'SETUSER', 'default', 'resetchannels');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await expect(bus.ping()).rejects.toThrow();

    await admin.call('ACL', 'SETUSER', 'default', 'allchannels');
    await eventually(async () => {
      await bus.publish(sessionId, 'after');
      return heard.includes('after');
    });
    await expect(bus.ping()).resolves.toBeUndefined();
    await bus.close();
    expect(unhandled).toEqual([]);
  });
});
