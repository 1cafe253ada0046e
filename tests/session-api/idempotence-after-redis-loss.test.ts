import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { ChatMessage, HistoryResponse, Session } from '@chat/protocol';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { bearer, openRealStack, type RealStack } from './real-services.ts';

const describe = await describeWithServices(POSTGRES, REDIS, NATS);

/**
 * A REST resend after Redis lost the session's live state is answered with the first message and
 * creates nothing, whether the persister wrote the first copy to PostgreSQL or it is still only
 * in JetStream.
 */
describe('a REST resend after Redis lost the session', () => {
  let stack: RealStack;
  beforeAll(async () => {
    stack = await openRealStack();
  });
  afterAll(() => stack.dispose());

  async function newSession(owner: string): Promise<string> {
    const res = await stack.call<Session>('POST', '/api/chat/sessions', { auth: await bearer(owner), body: { title: 'resend' } });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  const post = (sessionId: string, auth: string, body: object) => stack.call<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { auth, body });
  const history = async (sessionId: string, auth: string) => (await stack.call<HistoryResponse>('GET', `/api/chat/history/${sessionId}?limit=50`, { auth })).body.messages;

  for (const persisted of [true, false]) {
    it(`gives back the first message, the first copy ${persisted ? 'in PostgreSQL' : 'only in JetStream'}`, async () => {
      const owner = randomUUID();
      const auth = await bearer(owner);
      const sessionId = await newSession(owner);
      const firsts: ChatMessage[] = [];
      for (const clientMsgId of ['r1', 'r2']) {
        const res = await post(sessionId, auth, { body: `report ${clientMsgId}`, clientMsgId });
        expect(res.status).toBe(201);
        firsts.push(res.body);
      }
      if (persisted) expect(await stack.persist()).toBeGreaterThanOrEqual(2);
      const live: string[] = [];
      await stack.watcher.subscribe(sessionId, (payload) => live.push(payload));

      await stack.dropLiveState(sessionId);
      expect(await stack.redisKeys(sessionId)).toEqual([]);
      const resent = await Promise.all([post(sessionId, auth, { body: 'report r1, resent', clientMsgId: 'r1' }), post(sessionId, auth, { body: 'report r1, resent', clientMsgId: 'r1' })]);
      for (const res of resent) expect(res).toMatchObject({ status: 201, body: { id: firsts[0]?.id, seq: 1, body: 'report r1' } });
      const next = await post(sessionId, auth, { body: 'report r3', clientMsgId: 'r3' });
      expect(next.body).toMatchObject({ seq: 3 });

      expect((await history(sessionId, auth)).map((message) => [message.seq, message.id])).toEqual([
        [1, firsts[0]?.id],
        [2, firsts[1]?.id],
        [3, next.body.id],
      ]);
      await stack.persist();
      const stored = await stack.store.history(sessionId, { limit: 50 });
      expect(stored.messages.map((message) => [message.seq, message.clientMsgId])).toEqual([
        [1, 'r1'],
        [2, 'r2'],
        [3, 'r3'],
      ]);
      await stack.watcher.unsubscribe(sessionId);
      expect(live.map((payload) => (JSON.parse(payload) as ChatMessage).seq)).toEqual([3]);
    });
  }
});
