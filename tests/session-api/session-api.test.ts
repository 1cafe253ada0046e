import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { ChatMessage, HistoryResponse, Session } from '@chat/protocol';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { bearer, openRealStack, type RealStack } from './real-services.ts';

const describe = await describeWithServices(POSTGRES, REDIS, NATS);

const seqs = (page: HistoryResponse) => page.messages.map((m) => m.seq);

describe('the session-api over real Redis, NATS JetStream and PostgreSQL', () => {
  let stack: RealStack;
  beforeAll(async () => {
    // A live list of four, so older acknowledged messages can only come from PostgreSQL.
    stack = await openRealStack({ recentMessages: 4 });
  });
  afterAll(() => stack.dispose());

  async function newSession(owner: string, members: string[] = []): Promise<string> {
    const res = await stack.call<Session>('POST', '/api/chat/sessions', { auth: await bearer(owner), body: { title: 'integration', members } });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function post(sessionId: string, auth: string, body: object) {
    return stack.call<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { auth, body });
  }

  it('is ready while PostgreSQL, Redis and NATS answer', async () => {
    expect(await stack.call('GET', '/readyz')).toMatchObject({ status: 200, body: { ready: true } });
  });

  it('creates a session in PostgreSQL and loads it into Redis under the contract keys', async () => {
    const owner = randomUUID();
    const sessionId = await newSession(owner);
    expect(await stack.store.getSession(sessionId)).toMatchObject({ id: sessionId, members: [owner], closedAt: null });
    expect((await stack.redisKeys(sessionId)).sort()).toEqual(expect.arrayContaining([`sessions:{${sessionId}}:metadata`, `sessions:{${sessionId}}:users`]));
  });

  it('posts a message durably to JetStream, fans it out to other replicas, and shows it in history before the persister writes it', async () => {
    const owner = randomUUID();
    const sessionId = await newSession(owner);
    const live: string[] = [];
    await stack.watcher.subscribe(sessionId, (payload) => live.push(payload));
    const auth = await bearer(owner);

    const first = await post(sessionId, auth, { body: 'from the finance backend', clientMsgId: 'report-1', metadata: { kind: 'analysis' } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ seq: 1, userId: owner, body: 'from the finance backend', clientMsgId: 'report-1' });
    const again = await post(sessionId, auth, { body: 'from the finance backend', clientMsgId: 'report-1' });
    expect(again).toMatchObject({ status: 201, body: first.body });

    await waitFor(() => live.length === 1);
    expect(JSON.parse(live[0]!)).toEqual(first.body);
    expect(await stack.store.history(sessionId, { limit: 10 })).toEqual({ messages: [], hasMore: false });
    const history = await stack.call<HistoryResponse>('GET', `/api/chat/history/${sessionId}`, { auth });
    expect(history.body).toEqual({ messages: [first.body], hasMore: false });

    expect(await stack.persist()).toBeGreaterThanOrEqual(1);
    expect((await stack.store.history(sessionId, { limit: 10 })).messages.map((m) => m.id)).toEqual([first.body.id]);
    const after = await stack.call<HistoryResponse>('GET', `/api/chat/history/${sessionId}`, { auth });
    expect(seqs(after.body)).toEqual([1]);
  });

  it('pages history across PostgreSQL and the Redis recent list in both directions', async () => {
    const owner = randomUUID();
    const sessionId = await newSession(owner);
    const auth = await bearer(owner);
    const posted: ChatMessage[] = [];
    for (let i = 1; i <= 6; i++) posted.push((await post(sessionId, auth, { body: `m${i}` })).body);
    // Written so far: 1..3. In Redis (capped at four): 3..6. Only the merge sees all six.
    await stack.store.insertMessages(posted.slice(0, 3));
    const page = async (query: string) => (await stack.call<HistoryResponse>('GET', `/api/chat/history/${sessionId}${query}`, { auth })).body;

    expect(await page('')).toMatchObject({ hasMore: false });
    expect(seqs(await page(''))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await page('?limit=3')).toEqual({ messages: posted.slice(3), hasMore: true });
    expect(await page('?limit=3&before=4')).toEqual({ messages: posted.slice(0, 3), hasMore: false });
    expect(await page('?limit=2&before=5')).toEqual({ messages: posted.slice(2, 4), hasMore: true });
    expect(await page('?limit=2&after=1')).toEqual({ messages: posted.slice(1, 3), hasMore: true });
    expect(await page('?limit=4&after=2')).toEqual({ messages: posted.slice(2), hasMore: false });
  });

  it('adds members in PostgreSQL and in Redis, so they can post at once', async () => {
    const owner = randomUUID();
    const newcomer = randomUUID();
    const sessionId = await newSession(owner);
    const outsider = await post(sessionId, await bearer(newcomer), { body: 'let me in' });
    expect(outsider.status).toBe(403);
    const added = await stack.call<Session>('POST', `/api/chat/sessions/${sessionId}/members`, { auth: await bearer(owner), body: { userIds: [newcomer] } });
    expect(added).toMatchObject({ status: 200, body: { members: [owner, newcomer] } });
    expect((await post(sessionId, await bearer(newcomer), { body: 'hello' })).status).toBe(201);
  });

  it('continues the sequence when Redis has lost the session, from the head JetStream still holds', async () => {
    const owner = randomUUID();
    const sessionId = await newSession(owner);
    const auth = await bearer(owner);
    expect((await post(sessionId, auth, { body: 'one' })).body.seq).toBe(1);
    expect((await post(sessionId, auth, { body: 'two' })).body.seq).toBe(2);
    await stack.dropLiveState(sessionId);
    expect(await stack.redisKeys(sessionId)).toEqual([]);
    expect((await post(sessionId, auth, { body: 'three' })).body.seq).toBe(3);
  });

  it('closes a session: PostgreSQL marks it, every replica hears session_closed, Redis forgets it, admins still read it', async () => {
    const owner = randomUUID();
    const sessionId = await newSession(owner);
    const auth = await bearer(owner);
    const admin = await bearer(randomUUID(), true);
    const message = (await post(sessionId, auth, { body: 'kept for audit' })).body;
    await stack.persist();
    const events: string[] = [];
    await stack.watcher.subscribe(sessionId, (payload) => events.push(payload));

    expect((await stack.call('DELETE', `/api/chat/sessions/${sessionId}`, { auth })).status).toBe(403);
    expect((await stack.call('DELETE', `/api/chat/sessions/${sessionId}`, { auth: admin })).status).toBe(204);

    await waitFor(() => events.length === 1);
    expect(JSON.parse(events[0]!)).toEqual({ type: 'session_closed' });
    expect(await stack.redisKeys(sessionId)).toEqual([]);
    expect((await stack.store.getSession(sessionId))?.closedAt).toEqual(expect.any(String));
    expect(await stack.call('GET', `/api/chat/history/${sessionId}`, { auth })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect((await post(sessionId, auth, { body: 'too late' })).status).toBe(404);
    expect(await stack.call('GET', `/api/chat/history/${sessionId}`, { auth: admin })).toMatchObject({ status: 200, body: { messages: [message], hasMore: false } });
    // A closed session is not loaded into Redis again by reading or writing it.
    expect(await stack.redisKeys(sessionId)).toEqual([]);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
