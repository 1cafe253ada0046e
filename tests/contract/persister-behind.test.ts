import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { HistoryResponse } from '@chat/protocol';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { startStack } from '../support/stack.ts';
import { Harness, range, seqs, sleep } from './harness.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);

describeReal('a persister that has fallen behind the recent list (services backend)', () => {
  let h: Harness;

  beforeAll(async () => {
    // A recent list of five and no persister: messages 1..15 of twenty live only in JetStream.
    h = new Harness(await startStack('services', { withoutPersister: true, env: { RECENT_MESSAGES: '5', RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' } }));
  });

  afterEach(() => {
    h.closeAll();
  });

  afterAll(async () => {
    await h.stack.stop();
  });

  async function sessionWithTwentyMessages(member: string): Promise<string> {
    const sessionId = await h.createSession([member]);
    const token = await h.stack.token(member);
    for (let i = 1; i <= 20; i++) {
      const posted = await h.api('POST', `/api/chat/sessions/${sessionId}/messages`, { token, body: { body: `message ${i}`, clientMsgId: `m-${i}` } });
      expect(posted.status).toBe(201);
    }
    return sessionId;
  }

  it('history still holds every acknowledged message, catching up, reading the latest page and scrolling back', async () => {
    const member = randomUUID();
    const sessionId = await sessionWithTwentyMessages(member);
    const token = await h.stack.token(member);
    const read = async (query: string) => {
      const answer = await h.api<HistoryResponse>('GET', `/api/chat/history/${sessionId}?${query}`, { token });
      expect(answer.status).toBe(200);
      return answer.body;
    };

    expect((await h.stack.store.history(sessionId, { limit: 50, after: 0 })).messages).toEqual([]);
    const caughtUp = await read('after=0');
    expect(seqs(caughtUp.messages)).toEqual(range(1, 20));
    expect(caughtUp.messages.map((m) => m.body)).toEqual(range(1, 20).map((i) => `message ${i}`));
    expect(caughtUp.hasMore).toBe(false);
    expect(seqs((await read('after=3&limit=4')).messages)).toEqual(range(4, 7));
    expect(seqs((await read('limit=50')).messages)).toEqual(range(1, 20));
    expect(seqs((await read('before=16&limit=10')).messages)).toEqual(range(6, 15));
  });

  it('a client resuming with lastSeq gets every message after it, in order and once', async () => {
    const member = randomUUID();
    const sessionId = await sessionWithTwentyMessages(member);

    const resumed = await h.chat(0, sessionId, member, { lastSeq: 2 });
    await resumed.take('message', 18);
    await sleep(100);
    expect(seqs(resumed.ofType('message'))).toEqual(range(3, 20));
  });
});
