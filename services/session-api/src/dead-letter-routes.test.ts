import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChatMessage, DeadLetterDetailBody, DeadLetterList, ReplayResult } from '@chat/protocol';
import request from 'supertest';
import { bearer, createFixture, type Fixture } from '../testing/api-fixture.ts';

let fx: Fixture;
let admin: string;
beforeAll(async () => {
  fx = await createFixture({ env: { RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' } });
  admin = await bearer(randomUUID(), { admin: true });
}, 120_000);
afterAll(() => fx.close());

const encoder = new TextEncoder();

/** A session with three acknowledged messages: the persister wrote 1 and 3, and kept 2 as a dead letter. */
async function sessionWithDeadLetter(): Promise<{ sessionId: string; owner: string; sent: ChatMessage[] }> {
  const ownerId = randomUUID();
  const owner = await bearer(ownerId);
  const created = await request(fx.app).post('/api/chat/sessions').set('Authorization', owner).send({}).expect(201);
  const sessionId = created.body.id as string;
  for (const body of ['one', 'two', 'three']) await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', owner).send({ body }).expect(201);
  const sent = fx.queue.published.filter((m) => m.sessionId === sessionId);
  const refused = sent.find((m) => m.seq === 2)!;
  await fx.store.insertMessages(sent.filter((m) => m.seq !== 2));
  await fx.deadLetters.add({
    payload: encoder.encode(JSON.stringify(refused)),
    messageId: refused.id,
    sessionId,
    seq: 2,
    reason: 'refused',
    error: 'the database refused it: new row violates check constraint "no_twos"',
    errorCode: '23514',
    attempts: 5,
    failedAt: new Date().toISOString(),
  });
  return { sessionId, owner, sent };
}

describe('the dead-letter endpoints', () => {
  it('answer 403 to a caller without chat:admin, for any id', async () => {
    const user = await bearer(randomUUID());
    const list = await request(fx.app).get('/api/chat/dead-letters').set('Authorization', user).expect(403);
    expect(list.body.error.code).toBe('forbidden');
    await request(fx.app).get(`/api/chat/dead-letters/${randomUUID()}`).set('Authorization', user).expect(403);
    await request(fx.app).post(`/api/chat/dead-letters/${randomUUID()}/replay`).set('Authorization', user).expect(403);
    await request(fx.app).get('/api/chat/dead-letters').expect(401);
  });

  it('list the open dead letters of a session, and show one with its raw payload and message', async () => {
    const { sessionId, sent } = await sessionWithDeadLetter();
    const refused = sent.find((m) => m.seq === 2)!;
    const list = await request(fx.app).get(`/api/chat/dead-letters?sessionId=${sessionId}`).set('Authorization', admin).expect(200);
    const body = list.body as DeadLetterList;
    expect(body.deadLetters).toEqual([
      expect.objectContaining({ id: refused.id, messageId: refused.id, sessionId, seq: 2, reason: 'refused', errorCode: '23514', attempts: 5, state: 'open', replayedAt: null }),
    ]);
    expect(body.deadLetters[0]).not.toHaveProperty('payload');
    const detail = (await request(fx.app).get(`/api/chat/dead-letters/${refused.id.toUpperCase()}`).set('Authorization', admin).expect(200)).body as DeadLetterDetailBody;
    expect(detail.payload.text).toBe(JSON.stringify(refused));
    expect(Buffer.from(detail.payload.base64, 'base64').toString()).toBe(JSON.stringify(refused));
    expect(detail.message).toEqual(refused);
  });

  it('show the dead letter in history as what it is until a replay writes it, once however often it is replayed', async () => {
    const { sessionId, owner, sent } = await sessionWithDeadLetter();
    const refused = sent.find((m) => m.seq === 2)!;
    const before = (await request(fx.app).get(`/api/chat/history/${sessionId}`).set('Authorization', owner).expect(200)).body as { messages: ChatMessage[] };
    expect(before.messages.map((m) => [m.seq, m.state ?? 'stored'])).toEqual([
      [1, 'stored'],
      [2, 'dead_letter'],
      [3, 'stored'],
    ]);
    expect(before.messages[1]).toEqual({ ...refused, state: 'dead_letter' });

    const first = (await request(fx.app).post(`/api/chat/dead-letters/${refused.id}/replay`).set('Authorization', admin).expect(200)).body as ReplayResult;
    expect(first).toMatchObject({ inserted: true, message: refused, deadLetter: { id: refused.id, state: 'replayed', replayedAt: expect.any(String) } });
    const again = (await request(fx.app).post(`/api/chat/dead-letters/${refused.id}/replay`).set('Authorization', admin).expect(200)).body as ReplayResult;
    expect(again).toMatchObject({ inserted: false, deadLetter: { replayedAt: first.deadLetter.replayedAt } });

    const stored = await fx.store.history(sessionId, { limit: 10 });
    expect(stored.messages).toEqual(sent);
    const listed = (await request(fx.app).get(`/api/chat/dead-letters?sessionId=${sessionId}`).set('Authorization', admin).expect(200)).body as DeadLetterList;
    expect(listed.deadLetters).toEqual([]);
    const audit = (await request(fx.app).get(`/api/chat/dead-letters?sessionId=${sessionId}&includeReplayed=true`).set('Authorization', admin).expect(200)).body as DeadLetterList;
    expect(audit.deadLetters.map((d) => d.state)).toEqual(['replayed']);
  });

  it('refuse to replay a payload that is not a chat message, or one whose seq another message holds, changing nothing', async () => {
    const sessionId = randomUUID();
    const garbage = encoder.encode(`{"sessionId":"${sessionId}","seq":4,"body":`);
    await fx.deadLetters.add({ payload: garbage, sessionId, seq: 4, reason: 'invalid_payload', error: 'payload is not JSON', attempts: 1, failedAt: new Date().toISOString() });
    const [unreadable] = (await request(fx.app).get(`/api/chat/dead-letters?sessionId=${sessionId}`).set('Authorization', admin).expect(200)).body.deadLetters as DeadLetterList['deadLetters'];
    const res = await request(fx.app).post(`/api/chat/dead-letters/${unreadable!.id}/replay`).set('Authorization', admin).expect(409);
    expect(res.body.error.code).toBe('conflict');
    const detail = (await request(fx.app).get(`/api/chat/dead-letters/${unreadable!.id}`).set('Authorization', admin).expect(200)).body as DeadLetterDetailBody;
    expect(detail).toMatchObject({ state: 'open', message: null, payload: { text: new TextDecoder().decode(garbage) } });

    // History shows an unreadable dead letter as an empty placeholder at its seq.
    const page = await fx.store.history(sessionId, { limit: 10 });
    expect(page.messages).toEqual([expect.objectContaining({ seq: 4, body: '', state: 'dead_letter', userId: '00000000-0000-0000-0000-000000000000' })]);

    const { sent } = await sessionWithDeadLetter();
    const refused = sent.find((m) => m.seq === 2)!;
    // Another message took seq 2 meanwhile: the replay must not skip silently.
    await fx.store.insertMessages([{ ...refused, id: randomUUID(), body: 'other' }]);
    const taken = await request(fx.app).post(`/api/chat/dead-letters/${refused.id}/replay`).set('Authorization', admin).expect(409);
    expect(taken.body.error.message).toMatch(/held by another message/);
    expect((await fx.deadLetters.get(refused.id))?.replayedAt).toBeNull();
  });

  it('answer 404 for an unknown dead letter and 400 for an id that is not a UUID', async () => {
    await request(fx.app).get(`/api/chat/dead-letters/${randomUUID()}`).set('Authorization', admin).expect(404);
    await request(fx.app).post(`/api/chat/dead-letters/${randomUUID()}/replay`).set('Authorization', admin).expect(404);
    await request(fx.app).get('/api/chat/dead-letters/nope').set('Authorization', admin).expect(400);
    await request(fx.app).get('/api/chat/dead-letters?limit=0').set('Authorization', admin).expect(400);
  });
});
