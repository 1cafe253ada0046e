import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from '@jest/globals';
import { closeRedis, connectRedis, RedisUserRateLimiter } from '@chat/redis';
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

/**
 * Runs `attempt` with a new caller until one run fits inside the limiter's one-second window, and
 * returns what that run saw. A caller's window opens at its first take, so a run that ends within a
 * second of its start (as timed here, around the calls) made every take inside that window, and the
 * counts are exact. A machine too slow to fit a run in five tries fails the test rather than skip it.
 */
async function withinOneWindow<T>(attempt: (caller: string) => Promise<T>): Promise<T> {
  const timings: number[] = [];
  for (let tries = 0; tries < 5; tries++) {
    const started = performance.now();
    const seen = await attempt(randomUUID());
    const elapsed = performance.now() - started;
    if (elapsed < 1000) return seen;
    timings.push(Math.round(elapsed));
  }
  throw new Error(`no run of the takes fitted in one window of 1000 ms (took ${timings.join(', ')} ms)`);
}

describe('the posted-message rate limit over Redis', () => {
  it('is shared by every replica: two limiters on one Redis allow one burst between them', async () => {
    const replicaA = new MessageRateLimiter({ perSec: 2, burst: 4, limiter: new RedisUserRateLimiter(await redisAt(TEST_REDIS_URL)) });
    const replicaB = new MessageRateLimiter({ perSec: 2, burst: 4, limiter: new RedisUserRateLimiter(await redisAt(TEST_REDIS_URL)) });
    const seen = await withinOneWindow(async (caller) => ({
      a: await allowedOf(replicaA, caller, 3),
      b: await allowedOf(replicaB, caller, 3),
      aAgain: (await replicaA.take(caller)).allowed,
      otherCaller: await allowedOf(replicaB, randomUUID(), 1),
    }));
    // 2 a second plus 2 of burst, once between both replicas: A gets 3, B the last one, then nobody.
    expect(seen).toEqual({ a: 3, b: 1, aAgain: false, otherCaller: 1 });
  });

  it('sends its script by digest once Redis has it, not its whole body on every take', async () => {
    const redis = await redisAt(TEST_REDIS_URL);
    const sent: string[] = [];
    const sendCommand = redis.sendCommand.bind(redis);
    redis.sendCommand = (command, stream) => {
      sent.push(command.name);
      return sendCommand(command, stream);
    };
    const limiter = new MessageRateLimiter({ perSec: 2, burst: 3, limiter: new RedisUserRateLimiter(redis) });
    // The first take may find Redis without the script (EVALSHA, NOSCRIPT, then EVAL): it loads it.
    expect((await limiter.take(randomUUID())).allowed).toBe(true);
    // Counted within one window, so that a slow machine cannot open a second one between the takes.
    const allowed = await withinOneWindow(async (caller) => {
      sent.length = 0;
      return allowedOf(limiter, caller, 4);
    });
    expect(allowed).toBe(3);
    expect(sent).toEqual(['evalsha', 'evalsha', 'evalsha', 'evalsha']);
  });

  it('keeps limiting in each process while Redis is unreachable', async () => {
    const target = new URL(TEST_REDIS_URL);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.start();
    closers.push(() => proxy.stop());
    const limiter = new MessageRateLimiter({ perSec: 2, burst: 3, limiter: new RedisUserRateLimiter(await redisAt(`redis://127.0.0.1:${proxy.port}`)) });
    expect((await limiter.take(randomUUID())).allowed).toBe(true);

    await proxy.cut({ stopListening: true });
    // Fitting in one window also shows no take waited on the unreachable Redis.
    expect(await withinOneWindow((caller) => allowedOf(limiter, caller, 5))).toBe(3);
  });
});
