import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from '@jest/globals';
import { RedisBus, RedisSessionState } from '@chat/redis';
import { describeWithServices, REDIS, TEST_REDIS_URL } from '../support/services.ts';
import { closedPort, TcpProxy } from '../support/tcp-proxy.ts';

const target = new URL(TEST_REDIS_URL);
const closers: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

function session(members: string[]) {
  return { id: randomUUID(), title: null, members, metadata: {}, createdAt: new Date().toISOString(), closedAt: null };
}

function reserveInput(sessionId: string, userId: string) {
  return { sessionId, userId, clientMsgId: randomUUID(), id: randomUUID(), timestamp: new Date().toISOString() };
}

/** How long a promise takes to settle, and whether it rejected. */
async function settle(promise: Promise<unknown>): Promise<{ rejected: boolean; ms: number }> {
  const started = performance.now();
  const rejected = await promise.then(
    () => false,
    () => true,
  );
  return { rejected, ms: performance.now() - started };
}

async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

(await describeWithServices({ ...REDIS, host: target.hostname, port: Number(target.port || 6379) }))('Redis adapters when Redis goes away', () => {
  it('reject commands within 2 s when nothing listens at the Redis address, instead of hanging', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const state = new RedisSessionState({ url, recentMessages: 10 });
    const bus = new RedisBus({ url });
    closers.push(() => state.close(), () => bus.close());

    const outcomes = await Promise.all([state.reserve(reserveInput(randomUUID(), randomUUID())), state.ping(), bus.publish(randomUUID(), 'x'), bus.subscribe(randomUUID(), () => undefined), bus.ping()].map(settle));
    for (const outcome of outcomes) {
      expect(outcome.rejected).toBe(true);
      expect(outcome.ms).toBeLessThan(2_000);
    }
  });

  it('fails fast while Redis is cut off, then serves again by itself once it returns', async () => {
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.start();
    closers.push(() => proxy.stop());
    const state = new RedisSessionState({ url: `redis://127.0.0.1:${proxy.port}`, recentMessages: 10 });
    closers.push(() => state.close());
    const userId = randomUUID();
    const live = session([userId]);
    await state.hydrate(live, 0);
    expect(await state.reserve(reserveInput(live.id, userId))).toEqual({ status: 'reserved', seq: 1 });

    await proxy.cut({ stopListening: true });
    const outage = await settle(state.reserve(reserveInput(live.id, userId)));
    expect(outage.rejected).toBe(true);
    expect(outage.ms).toBeLessThan(2_000);
    expect((await settle(state.ping())).rejected).toBe(true);

    await proxy.start();
    await eventually(() => state.ping());
    expect(await state.reserve(reserveInput(live.id, userId))).toEqual({ status: 'reserved', seq: 2 });
  });

  it('resubscribes the bus after its connections drop', async () => {
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.start();
    closers.push(() => proxy.stop());
    const listener = new RedisBus({ url: `redis://127.0.0.1:${proxy.port}` });
    const publisher = new RedisBus({ url: TEST_REDIS_URL });
    closers.push(() => listener.close(), () => publisher.close());
    const sessionId = randomUUID();
    const received: string[] = [];
    await listener.subscribe(sessionId, (payload) => received.push(payload));

    await proxy.cut({ stopListening: false });

    // Pub/sub is at-most-once while disconnected: keep publishing until the resubscribed listener hears one.
    await eventually(async () => {
      await publisher.publish(sessionId, 'after');
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (!received.includes('after')) throw new Error('not resubscribed yet');
    });
    expect(new Set(received)).toEqual(new Set(['after']));
  });
});
