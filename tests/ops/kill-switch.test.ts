import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { TestClient, type Frame } from '@chat/gateway/testing';
import { OwnRedis } from '../support/own-redis.ts';
import { createOwnDatabase } from '../support/own-database.ts';
import { describeWithServices, NATS, POSTGRES } from '../support/services.ts';
import { startStack, type Stack, type StackKind } from '../support/stack.ts';
import { runCli } from './cli.ts';

const describe = await describeWithServices(POSTGRES, NATS);

// The services stack gets a Redis of its own: the switch on the shared one would turn chat off for every other suite.
const REDIS_PORT = 27381;

describe.each<StackKind>(['embedded', 'services'])('the kill switch across two gateway replicas (%s)', (kind) => {
  const redis = new OwnRedis(REDIS_PORT);
  let database: Awaited<ReturnType<typeof createOwnDatabase>> | undefined;
  let stack: Stack;
  let admin: string;
  const alice = randomUUID();
  let sessionId: string;

  const api = (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
    fetch(`${stack.apiUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }), 'content-type': 'application/json' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const connect = async (gateway: 0 | 1) =>
    new TestClient(`${stack.gatewayUrls[gateway].replace(/^http/, 'ws')}/ws/chat/${sessionId}?token=${await stack.token(alice)}`);
  const send = async (client: TestClient, body: string): Promise<Frame> => {
    const clientMsgId = randomUUID();
    client.send({ type: 'send', clientMsgId, body });
    return client.next((frame: Frame) => frame['clientMsgId'] === clientMsgId && (frame['type'] === 'ack' || frame['type'] === 'error'), 20_000);
  };
  const within = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${String(ms)} ms`)), ms).unref())]);

  beforeAll(async () => {
    const env: Record<string, string> = { CHAT_SWITCH_POLL_MS: '200' };
    if (kind === 'services') {
      await redis.start();
      database = await createOwnDatabase('kill_switch');
      Object.assign(env, { REDIS_URL: redis.url, DATABASE_URL: database.url });
    }
    stack = await startStack(kind, { env });
    admin = await stack.token(randomUUID(), { admin: true });
    const created = await api('/api/chat/sessions', { method: 'POST', token: admin, body: { title: 'switch', members: [alice] } });
    sessionId = ((await created.json()) as { id: string }).id;
  }, 90_000);

  afterAll(async () => {
    await stack.stop();
    await redis.stop();
    await database?.drop();
  }, 30_000);

  it('turned off, closes open sockets on both replicas with 4503, refuses new ones and writes, keeps history and readiness; turned on, chat resumes', async () => {
    const a = await connect(0);
    const b = await connect(1);
    await a.nextOfType('welcome');
    await b.nextOfType('welcome');
    expect(await send(a, 'before')).toMatchObject({ type: 'ack', seq: 1 });
    expect(await (await api('/status')).json()).toEqual({ chat: 'on', heldBy: 'switch' });

    const byUser = await api('/api/chat/admin/switch', { method: 'POST', token: await stack.token(alice), body: { chat: 'off' } });
    expect(byUser.status).toBe(403);
    const bad = await api('/api/chat/admin/switch', { method: 'POST', token: admin, body: { chat: 'maybe' } });
    expect(bad.status).toBe(400);
    expect(await (await api('/status')).json()).toMatchObject({ chat: 'on' });

    const off = await api('/api/chat/admin/switch', { method: 'POST', token: admin, body: { chat: 'off' } });
    expect(off.status).toBe(200);
    expect(await off.json()).toEqual({ chat: 'off', heldBy: 'switch' });
    expect(await within(a.closed, 5_000)).toEqual({ code: 4503, reason: 'chat is turned off' });
    expect(await within(b.closed, 5_000)).toEqual({ code: 4503, reason: 'chat is turned off' });

    for (const gateway of [0, 1] as const) {
      const refused = await connect(gateway);
      expect(await within(refused.closed, 5_000)).toEqual({ code: 4503, reason: 'chat is turned off' });
      expect(refused.ofType('welcome')).toEqual([]);
    }
    const post = await api(`/api/chat/sessions/${sessionId}/messages`, { method: 'POST', token: admin, body: { body: 'while off' } });
    expect(post.status).toBe(503);
    expect(await post.json()).toEqual({ error: { code: 'chat_disabled', message: 'Chat is turned off.' } });
    expect((await api('/api/chat/sessions', { method: 'POST', token: admin, body: {} })).status).toBe(503);
    const history = await api(`/api/chat/history/${sessionId}`, { token: await stack.token(alice) });
    expect(history.status).toBe(200);
    expect(((await history.json()) as { messages: { body: string }[] }).messages.map((m) => m.body)).toEqual(['before']);
    expect(await (await api('/status')).json()).toEqual({ chat: 'off', heldBy: 'switch' });
    for (const url of stack.gatewayUrls) expect((await fetch(`${url}/readyz`)).status).toBe(200);

    expect((await api('/api/chat/admin/switch', { method: 'POST', token: admin, body: { chat: 'on' } })).status).toBe(200);
    // Each replica follows within its poll interval.
    for (const gateway of [0, 1] as const) {
      let welcomed = false;
      for (let attempt = 0; attempt < 25 && !welcomed; attempt++) {
        const client = await connect(gateway);
        const first = await Promise.race([client.nextOfType('welcome', 5_000).then(() => 'welcome'), client.closed.then(() => 'closed')]);
        welcomed = first === 'welcome';
        if (welcomed && gateway === 1) expect(await send(client, 'after')).toMatchObject({ type: 'ack', seq: 2 });
        client.close();
        if (!welcomed) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(welcomed).toBe(true);
    }
  }, 90_000);

  if (kind === 'services') {
    it('is set for every replica by pnpm chat:switch, which also reports it', async () => {
      const env = { REDIS_URL: redis.url };
      expect(await runCli('apps/ops/src/switch-cli.ts', ['off'], env)).toMatchObject({ code: 0, stdout: 'chat is off\n' });
      const open = await connect(1);
      expect(await within(open.closed, 10_000)).toEqual({ code: 4503, reason: 'chat is turned off' });
      expect(await runCli('apps/ops/src/switch-cli.ts', ['status'], env)).toMatchObject({ code: 0, stdout: 'chat is off\n' });
      expect(await runCli('apps/ops/src/switch-cli.ts', ['on'], env)).toMatchObject({ code: 0, stdout: 'chat is on\n' });
      expect(await runCli('apps/ops/src/switch-cli.ts', ['sideways'], env)).toMatchObject({ code: 64 });
      let status = '';
      for (let attempt = 0; attempt < 25 && status !== 'on'; attempt++) {
        status = ((await (await api('/status')).json()) as { chat: string }).chat;
        if (status !== 'on') await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status).toBe('on');
    }, 60_000);
  }
});

describe('CHAT_DISABLED', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('embedded', { env: { CHAT_DISABLED: 'true' } });
  }, 60_000);

  afterAll(() => stack.stop(), 30_000);

  it('holds chat off whatever the admin switch says', async () => {
    expect(await (await fetch(`${stack.apiUrl}/status`)).json()).toEqual({ chat: 'off', heldBy: 'environment' });
    const on = await fetch(`${stack.apiUrl}/api/chat/admin/switch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.token(randomUUID(), { admin: true })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ chat: 'on' }),
    });
    expect(on.status).toBe(409);
    expect(((await on.json()) as { error: { message: string } }).error.message).toMatch(/CHAT_DISABLED is set/);
    const client = new TestClient(`${stack.gatewayUrls[1].replace(/^http/, 'ws')}/ws/chat/${randomUUID()}?token=${await stack.token(randomUUID())}`);
    expect(await client.closed).toEqual({ code: 4503, reason: 'chat is turned off' });
  }, 30_000);
});
