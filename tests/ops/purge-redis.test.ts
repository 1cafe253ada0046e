import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { TestClient, type Frame } from '@chat/gateway/testing';
import { CHAT_KEY_PATTERNS } from '@chat/redis';
import { Redis } from 'ioredis';
import { OwnRedis } from '../support/own-redis.ts';
import { createOwnDatabase } from '../support/own-database.ts';
import { describeWithServices, NATS, POSTGRES } from '../support/services.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { runCli } from './cli.ts';

// A redis-server of this suite's own: a purge on the shared one would delete other suites' sessions.
const REDIS_PORT = 27380;
const describe = await describeWithServices(POSTGRES, NATS);

describe('pnpm chat:purge-redis on a running stack', () => {
  const redis = new OwnRedis(REDIS_PORT);
  let stack: Stack;
  let inspect: Redis;
  let database: Awaited<ReturnType<typeof createOwnDatabase>>;
  const purge = (...args: string[]) => runCli('apps/ops/src/purge-redis-cli.ts', args, { REDIS_URL: redis.url });

  beforeAll(async () => {
    await redis.start();
    database = await createOwnDatabase('purge_redis');
    inspect = new Redis(redis.url);
    stack = await startStack('services', { env: { REDIS_URL: redis.url, DATABASE_URL: database.url } });
  }, 90_000);

  afterAll(async () => {
    await stack.stop();
    inspect.disconnect();
    await redis.stop();
    await database.drop();
  }, 30_000);

  it('counts first, deletes only with --yes and only its own keys; then sends continue with the next seq and history is whole', async () => {
    const alice = randomUUID();
    const admin = await stack.token(randomUUID(), { admin: true });
    const created = await fetch(`${stack.apiUrl}/api/chat/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'purge', members: [alice] }),
    });
    const { id: sessionId } = (await created.json()) as { id: string };
    const client = new TestClient(`${stack.gatewayUrls[0].replace(/^http/, 'ws')}/ws/chat/${sessionId}?token=${await stack.token(alice)}`);
    await client.nextOfType('welcome');
    const send = async (body: string): Promise<Frame> => {
      const clientMsgId = randomUUID();
      client.send({ type: 'send', clientMsgId, body });
      return client.next((frame: Frame) => frame['clientMsgId'] === clientMsgId && (frame['type'] === 'ack' || frame['type'] === 'error'), 20_000);
    };
    for (const body of ['one', 'two', 'three']) expect(await send(body)).toMatchObject({ type: 'ack' });
    await inspect.set('another-app:keep', '1');
    const ours = async () => (await inspect.keys('sessions:{*')).length;
    expect(await ours()).toBeGreaterThan(0);
    // Keys with a time to live (send budgets, reservations) may lapse on their own while we look.
    const lasting = async () => {
      const keys = await inspect.keys('*');
      const ttls = await Promise.all(keys.map((key) => inspect.ttl(key)));
      return keys.filter((_, index) => ttls[index] === -1).sort();
    };
    const before = await lasting();
    expect(before).toContain('another-app:keep');
    expect(before.some((key) => key.startsWith('sessions:{'))).toBe(true);
    // Every key the running system wrote (live state, send budgets, connection leases) is one the
    // purge's patterns name; only the foreign key stands outside them.
    const named = (key: string) => CHAT_KEY_PATTERNS.some((pattern) => key.startsWith(pattern.replace(/\*$/, '')));
    const written = await inspect.keys('*');
    expect(written.some((key) => key.startsWith('limits:'))).toBe(true);
    expect(written.filter((key) => !named(key))).toEqual(['another-app:keep']);

    const dry = await purge('--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`found ${String(await ours())} keys matching sessions:\\{\\*`));
    expect(dry.stdout).toContain('dry run: nothing deleted');
    expect(await lasting()).toEqual(before);

    const unconfirmed = await purge();
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/refusing to delete \d+ keys without --yes/);
    expect(await lasting()).toEqual(before);

    // The switch key (here saying on, so the sockets stay open) is not this purge's to delete.
    await inspect.set('chat-control:switch', 'on');
    const done = await purge('--yes', '--batch', '2');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/deleted \d+ keys/);
    expect(await ours()).toBe(0);
    expect(await inspect.get('another-app:keep')).toBe('1');
    expect(await inspect.get('chat-control:switch')).toBe('on');

    // Live state is rebuilt from PostgreSQL and JetStream: the head continues at 4.
    expect(await send('four')).toMatchObject({ type: 'ack', seq: 4 });
    const history = async () => {
      const answer = await fetch(`${stack.apiUrl}/api/chat/history/${sessionId}`, { headers: { authorization: `Bearer ${admin}` } });
      return ((await answer.json()) as { messages: { seq: number; body: string }[] }).messages;
    };
    let messages = await history();
    for (let attempt = 0; attempt < 50 && messages.length < 4; attempt++) {
      await sleep(200);
      messages = await history();
    }
    expect(messages.map((message) => [message.seq, message.body])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
      [4, 'four'],
    ]);
    client.close();
  }, 90_000);

  it('refuses a bad batch size with a clear error and deletes nothing', async () => {
    const answer = await purge('--yes', '--batch', 'lots');
    expect(answer.code).toBe(64);
    expect(answer.stderr).toContain('--batch must be a whole number');
  });
});
