import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Frame, TestClient } from '@chat/gateway/testing';
import { FEED_PREVIEW_CHARS, feedServerFrameSchema } from '@chat/protocol';
import { NATS, POSTGRES, REDIS, realServicesAvailable } from '../support/services.ts';
import type { StackKind } from '../support/stack.ts';
import { Harness, sleep } from './harness.ts';

const kinds: StackKind[] = (await realServicesAvailable(POSTGRES, REDIS, NATS)) ? ['embedded', 'services'] : ['embedded'];

/** How long a test waits to be sure a frame did not come: fan-out takes milliseconds. */
const QUIET_MS = 400;

describe.each(kinds)('the per-user feed over the %s backend', (kind) => {
  const h = Harness.forSuite(kind);

  /** A user's feed socket on a replica, once it said which sessions it follows. */
  async function feed(replica: number, userId: string, token?: string): Promise<{ client: TestClient; open: Frame }> {
    const client = h.open(replica, `/ws/feed?token=${token ?? (await h.stack.token(userId))}`);
    const open = await client.nextOfType('feed_open');
    return { client, open };
  }

  async function send(client: TestClient, body: string, metadata?: Record<string, unknown>): Promise<number> {
    const clientMsgId = randomUUID();
    client.send({ type: 'send', clientMsgId, body, ...(metadata === undefined ? {} : { metadata }) });
    const ack = await client.next((frame) => frame.type === 'ack' && frame['clientMsgId'] === clientMsgId);
    return ack['seq'] as number;
  }

  /** Every frame the feed got is one of the feed's frames, as @chat/protocol defines them. */
  function expectValidFrames(client: TestClient): void {
    for (const frame of client.frames) expect(feedServerFrameSchema.safeParse(frame).error).toBeUndefined();
  }

  it('tells every feed of the user, on each replica, of new messages in any of their sessions, in seq order, with a preview and no more', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const first = await h.createSession([alice, bob]);
    const second = await h.createSession([alice, bob]);
    const feeds = [await feed(0, alice), await feed(1, alice)];
    for (const { open } of feeds) {
      expect(open).toMatchObject({ type: 'feed_open', userId: alice });
      expect([...(open['sessionIds'] as string[])].sort()).toEqual([first, second].sort());
    }

    const bobOnFirst = await h.chat(1, first, bob);
    const bobOnSecond = await h.chat(0, second, bob);
    const long = `${'x'.repeat(FEED_PREVIEW_CHARS)}tail that is never sent`;
    const seqs = [await send(bobOnFirst, 'one'), await send(bobOnFirst, long)];
    await send(bobOnSecond, 'result', { kind: 'analysis_result', version: 1, title: 'Q3 VaR' });

    for (const { client } of feeds) {
      const onFirst = [await client.next((f) => f.type === 'feed_message' && f['sessionId'] === first), await client.next((f) => f.type === 'feed_message' && f['sessionId'] === first)];
      expect(onFirst.map((f) => f['seq'])).toEqual(seqs);
      expect(onFirst[0]).toEqual({ type: 'feed_message', sessionId: first, seq: seqs[0], userId: bob, timestamp: expect.any(String), preview: 'one' });
      expect(onFirst[1]?.['preview']).toBe('x'.repeat(FEED_PREVIEW_CHARS));
      const onSecond = await client.next((f) => f.type === 'feed_message' && f['sessionId'] === second);
      expect(onSecond).toMatchObject({ seq: 1, userId: bob, preview: 'result', kind: 'analysis_result' });
      // A summary, never the message: no body, metadata or id travel on the feed.
      for (const frame of client.ofType('feed_message')) for (const field of ['body', 'metadata', 'id']) expect(frame).not.toHaveProperty(field);
      expectValidFrames(client);
    }
  });

  it('tells the user’s feeds of their own read moves from any tab, and never of other members’ reads', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const sessionId = await h.createSession([alice, bob]);
    const aliceFeed = await feed(1, alice);
    const bobChat = await h.chat(0, sessionId, bob);
    await send(bobChat, 'one');
    await send(bobChat, 'two');
    // Bob reads: Alice's feed hears nothing of it.
    bobChat.send({ type: 'read', seq: 2 });
    const aliceTab = await h.chat(0, sessionId, alice);
    aliceTab.send({ type: 'read', seq: 1 });
    await expect(aliceFeed.client.next((f) => f.type === 'feed_read')).resolves.toEqual({ type: 'feed_read', sessionId, seq: 1 });
    aliceTab.send({ type: 'read', seq: 2 });
    await expect(aliceFeed.client.next((f) => f.type === 'feed_read')).resolves.toEqual({ type: 'feed_read', sessionId, seq: 2 });
    await sleep(QUIET_MS);
    expect(aliceFeed.client.ofType('feed_read')).toHaveLength(2);
  });

  it('never tells a feed about a session its user is not a member of', async () => {
    const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
    const alices = await h.createSession([alice]);
    const others = await h.createSession([bob, carol]);
    const { client, open } = await feed(0, alice);
    expect(open['sessionIds']).toEqual([alices]);
    const bobChat = await h.chat(1, others, bob);
    await send(bobChat, 'not for alice');
    bobChat.send({ type: 'read', seq: 1 });
    await h.api('PUT', `/api/chat/sessions/${others}/analysis-status`, { token: await h.adminToken(), body: { state: 'running', progress: 10 } });
    // Something in her own session afterwards: once it arrives, anything from the other would have too.
    const aliceChat = await h.chat(1, alices, alice);
    await send(aliceChat, 'mine');
    await client.next((f) => f.type === 'feed_message' && f['sessionId'] === alices);
    await sleep(QUIET_MS);
    expect(client.frames.filter((f) => f['sessionId'] === others)).toEqual([]);
    expect(JSON.stringify(client.frames)).not.toContain('not for alice');
  });

  it('follows a session the user is added to or creates, on every replica, and relays its analysis status', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const feeds = [await feed(0, alice), await feed(1, alice)];
    for (const { open } of feeds) expect(open['sessionIds']).toEqual([]);
    const sessionId = await h.createSession([bob]);
    const added = await h.api('POST', `/api/chat/sessions/${sessionId}/members`, { token: await h.adminToken(), body: { userIds: [alice] } });
    expect(added.status).toBe(200);
    for (const { client } of feeds) await expect(client.nextOfType('session_added')).resolves.toEqual({ type: 'session_added', sessionId });
    await send(await h.chat(0, sessionId, bob), 'welcome aboard');
    const status = await h.api('PUT', `/api/chat/sessions/${sessionId}/analysis-status`, { token: await h.adminToken(), body: { state: 'done' } });
    expect(status.status).toBe(200);
    for (const { client } of feeds) {
      await expect(client.nextOfType('feed_message')).resolves.toMatchObject({ sessionId, seq: 1, preview: 'welcome aboard' });
      await expect(client.nextOfType('analysis_status')).resolves.toMatchObject({ sessionId, state: 'done' });
    }

    // A session the user creates for themself is announced the same way.
    const own = await h.api<{ id: string }>('POST', '/api/chat/sessions', { token: await h.stack.token(alice), body: { title: 'mine' } });
    expect(own.status).toBe(201);
    for (const { client } of feeds) await expect(client.next((f) => f.type === 'session_added' && f['sessionId'] === own.body.id)).resolves.toBeDefined();
  });

  it('ignores a session_added event for a session the user is not in', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const { client } = await feed(0, alice);
    // Another user is added: only their feeds hear of it; Alice's stays quiet.
    const sessionId = await h.createSession([bob]);
    await send(await h.chat(1, sessionId, bob), 'private');
    await sleep(QUIET_MS);
    expect(client.frames.map((f) => f.type)).toEqual(['feed_open']);
  });

  it('stops telling a removed member, and says so; a closed session likewise', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const sessionId = await h.createSession([alice, bob]);
    const closing = await h.createSession([alice, bob]);
    const feeds = [await feed(0, alice), await feed(1, alice)];
    const bobChat = await h.chat(1, sessionId, bob);
    await send(bobChat, 'before');
    for (const { client } of feeds) await client.nextOfType('feed_message');

    const removed = await h.api('DELETE', `/api/chat/sessions/${sessionId}/members/${alice}`, { token: await h.adminToken() });
    expect(removed.status).toBe(200);
    for (const { client } of feeds) await expect(client.nextOfType('session_removed', 2_000)).resolves.toEqual({ type: 'session_removed', sessionId, reason: 'member_removed' });
    await send(bobChat, 'after the removal');
    bobChat.send({ type: 'read', seq: 2 });

    const closed = await h.api('DELETE', `/api/chat/sessions/${closing}`, { token: await h.adminToken() });
    expect(closed.status).toBe(204);
    for (const { client } of feeds) {
      await expect(client.next((f) => f.type === 'session_removed' && f['sessionId'] === closing, 2_000)).resolves.toMatchObject({ reason: 'session_closed' });
      await sleep(QUIET_MS);
      expect(client.ofType('feed_message')).toHaveLength(1);
      expect(JSON.stringify(client.frames)).not.toContain('after the removal');
      expectValidFrames(client);
    }
    // A feed opened afterwards follows neither.
    await expect(feed(0, alice).then(({ open }) => open['sessionIds'])).resolves.toEqual([]);
  });

  const refusals: [string, (userId: string) => Promise<string>][] = [
    ['no token', () => Promise.resolve('/ws/feed')],
    ['a token that is not a JWT', () => Promise.resolve('/ws/feed?token=not-a-jwt')],
    ['an expired token', async (userId) => `/ws/feed?token=${await h.stack.token(userId, { ttlSeconds: -3600 })}`],
  ];

  it.each(refusals)('refuses %s with 4401 after the upgrade, before any frame', async (_name, path) => {
    for (const replica of [0, 1]) {
      const client = h.open(replica, await path(randomUUID()));
      await client.opened();
      await expect(client.closed).resolves.toMatchObject({ code: 4401 });
      expect(client.frames).toEqual([]);
    }
  });

  it('closes with 4401 when the token runs out, keeps going with a fresh one sent in an auth frame, and refuses another user’s', async () => {
    const alice = randomUUID();
    const expiring = await feed(0, alice, await h.stack.token(alice, { ttlSeconds: 2 }));
    const renewed = await feed(1, alice, await h.stack.token(alice, { ttlSeconds: 2 }));
    renewed.client.send({ type: 'auth', token: await h.stack.token(alice, { ttlSeconds: 600 }) });
    await expect(renewed.client.nextOfType('authenticated')).resolves.toMatchObject({ expiresAt: expect.any(String) });
    await expect(expiring.client.closed).resolves.toEqual({ code: 4401, reason: 'token expired' });
    renewed.client.send({ type: 'ping' });
    await expect(renewed.client.nextOfType('pong')).resolves.toEqual({ type: 'pong' });

    renewed.client.send({ type: 'auth', token: await h.stack.token(randomUUID()) });
    await expect(renewed.client.closed).resolves.toMatchObject({ code: 4403 });
  }, 15_000);

  it('answers any frame but ping and auth with invalid_frame, changing nothing', async () => {
    const alice = randomUUID();
    const sessionId = await h.createSession([alice]);
    const { client } = await feed(1, alice);
    client.send({ type: 'send', clientMsgId: 'x', body: 'not here' });
    client.send({ type: 'read', seq: 0 });
    client.send('not json');
    const errors = await client.take('error', 3);
    expect(errors.map((e) => e['code'])).toEqual(['invalid_frame', 'invalid_frame', 'invalid_frame']);
    await expect(h.stack.store.history(sessionId, { limit: 10 })).resolves.toMatchObject({ messages: [] });
  });
});
