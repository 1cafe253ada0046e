import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from '@jest/globals';
import type { ChatMessage, Session } from '@chat/protocol';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_NATS_URL, TEST_REDIS_URL } from '../support/services.ts';
import { bearer, openRealStack, type RealStack } from './real-services.ts';

const describe = await describeWithServices(POSTGRES, REDIS, NATS);

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function proxied(url: string, fallbackPort: number): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(url);
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || fallbackPort) });
  await proxy.start();
  closers.push(() => proxy.stop());
  return { proxy, url: `${target.protocol}//127.0.0.1:${proxy.port}` };
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the service did not recover in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function sessionWithOwner(stack: RealStack): Promise<{ sessionId: string; auth: string }> {
  const owner = randomUUID();
  const auth = await bearer(owner);
  const created = await stack.call<Session>('POST', '/api/chat/sessions', { auth, body: {} });
  expect(created.status).toBe(201);
  return { sessionId: created.body.id, auth };
}

describe('the session-api when a dependency goes away', () => {
  it('answers 503 unavailable and turns not ready while Redis is unreachable, and serves again once it returns', async () => {
    const redis = await proxied(TEST_REDIS_URL, 6379);
    const stack = await openRealStack({ redisUrl: redis.url });
    closers.push(() => stack.dispose());
    const { sessionId, auth } = await sessionWithOwner(stack);
    expect((await stack.call<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { auth, body: { body: 'before' } })).body.seq).toBe(1);

    await redis.proxy.cut({ stopListening: true });
    const started = Date.now();
    const refused = await stack.call('POST', `/api/chat/sessions/${sessionId}/messages`, { auth, body: { body: 'during' } });
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await stack.call('GET', `/api/chat/history/${sessionId}`, { auth })).toMatchObject({ status: 503 });
    expect(await stack.call('GET', '/readyz')).toMatchObject({ status: 503, body: { ready: false, checks: { redis: { ok: false } } } });

    await redis.proxy.start();
    await eventually(async () => (await stack.call('GET', '/readyz')).status === 200);
    const after = await stack.call<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { auth, body: { body: 'after' } });
    expect(after).toMatchObject({ status: 201, body: { seq: 2 } });
  });

  it('answers 503 unavailable, never a false 201, while NATS is unreachable, and serves again once it returns', async () => {
    const nats = await proxied(TEST_NATS_URL, 4222);
    const stack = await openRealStack({ natsUrl: nats.url });
    closers.push(() => stack.dispose());
    const { sessionId, auth } = await sessionWithOwner(stack);

    await nats.proxy.cut({ stopListening: true });
    const refused = await stack.call('POST', `/api/chat/sessions/${sessionId}/messages`, { auth, body: { body: 'during', clientMsgId: 'retry-me' } });
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(await stack.call('GET', '/readyz')).toMatchObject({ status: 503, body: { checks: { nats: { ok: false } } } });

    await nats.proxy.start();
    await eventually(async () => (await stack.call('GET', '/readyz')).status === 200);
    // The retry fills the seq the failed attempt reserved: no gap, no duplicate.
    const retried = await stack.call<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { auth, body: { body: 'during', clientMsgId: 'retry-me' } });
    expect(retried).toMatchObject({ status: 201, body: { seq: 1, body: 'during' } });
    const next = await stack.call<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { auth, body: { body: 'next' } });
    expect(next.body.seq).toBe(2);
  }, 60_000);
});
