import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { bearer, createFixture, type Fixture } from '../testing/api-fixture.ts';

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture({ env: { MAX_MESSAGE_CHARS: '10', RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' } });
});
afterAll(() => fx.close());

async function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function sessionOf(ownerId: string): Promise<string> {
  const res = await request(fx.app).post('/api/chat/sessions').set('Authorization', await bearer(ownerId)).send({}).expect(201);
  return res.body.id as string;
}

describe('POST /api/chat/sessions/{id}/messages', () => {
  it('answers 201 with the message only once the queue has taken it, then fans it out to connected clients', async () => {
    const owner = randomUUID();
    const sessionId = await sessionOf(owner);
    const live: string[] = [];
    await fx.watcher.subscribe(sessionId, (payload) => live.push(payload));
    const auth = await bearer(owner, { name: 'Ada' });
    let release = (): void => undefined;
    fx.queue.hold = new Promise((resolve) => {
      release = resolve;
    });
    let answered = false;
    let res: request.Response;
    try {
      const answering = request(fx.app)
        .post(`/api/chat/sessions/${sessionId}/messages`)
        .set('Authorization', auth)
        .send({ body: 'analysis', clientMsgId: 'c-1', metadata: { kind: 'report' } })
        .then((response) => {
          answered = true;
          return response;
        });
      await eventually(() => fx.queue.attempted.some((message) => message.sessionId === sessionId));
      // The queue has not answered: no response, nothing fanned out, nothing in the live list yet.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(answered).toBe(false);
      expect(live).toEqual([]);
      expect(await fx.state.recent(sessionId, 0)).toEqual([]);
      release();
      res = await answering;
    } finally {
      fx.queue.hold = undefined;
      release();
    }
    expect(res.status).toBe(201);

    expect(res.body).toEqual({
      type: 'message',
      id: expect.any(String),
      sessionId,
      seq: 1,
      userId: owner,
      userName: 'Ada',
      body: 'analysis',
      metadata: { kind: 'report' },
      timestamp: expect.any(String),
      clientMsgId: 'c-1',
    });
    expect(fx.queue.published).toContainEqual(res.body);
    await new Promise((resolve) => setImmediate(resolve));
    expect(live.map((payload) => JSON.parse(payload) as unknown)).toEqual([res.body]);
  });

  it('gives the first message again for a repeated clientMsgId, and a new one without a clientMsgId', async () => {
    const owner = randomUUID();
    const sessionId = await sessionOf(owner);
    const auth = await bearer(owner);
    const first = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: 'once', clientMsgId: 'dup' }).expect(201);
    const again = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: 'retry!', clientMsgId: 'dup', metadata: { x: 1 } }).expect(201);
    expect(again.body).toEqual(first.body);
    const plain = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: 'once' }).expect(201);
    const plainAgain = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: 'once' }).expect(201);
    expect([first.body.seq, plain.body.seq, plainAgain.body.seq]).toEqual([1, 2, 3]);
    expect(fx.queue.published.filter((m) => m.sessionId === sessionId)).toHaveLength(3);
  });

  it('gives the first message back from the store once it has left the live list', async () => {
    const owner = randomUUID();
    const sessionId = await sessionOf(owner);
    const auth = await bearer(owner);
    const first = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: 'original', clientMsgId: 'k' }).expect(201);
    await fx.store.insertMessages([first.body]);
    // The live list keeps the reservation but no longer the message, as after the cap pushed it out.
    const recent = fx.state.recent.bind(fx.state);
    fx.state.recent = () => Promise.resolve([]);
    try {
      const again = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: 'retry', clientMsgId: 'k' }).expect(201);
      expect(again.body).toEqual(first.body);
    } finally {
      fx.state.recent = recent;
    }
  });

  it('counts the length in characters, so MAX_MESSAGE_CHARS emoji fit and one more is 413', async () => {
    const owner = randomUUID();
    const sessionId = await sessionOf(owner);
    const auth = await bearer(owner);
    await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: '😀'.repeat(10) }).expect(201);
    const res = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: 'x'.repeat(11) }).expect(413);
    expect(res.body.error.code).toBe('too_large');
  });

  it('refuses a JSON body over the size limit with 413 before reading it', async () => {
    const owner = randomUUID();
    const sessionId = await sessionOf(owner);
    const res = await request(fx.app)
      .post(`/api/chat/sessions/${sessionId}/messages`)
      .set('Authorization', await bearer(owner))
      .send({ body: 'x'.repeat(200_000) })
      .expect(413);
    expect(res.body).toEqual({ error: { code: 'too_large', message: expect.any(String) } });
  });

  it('refuses an empty body, a missing body, a long clientMsgId and unknown fields with 400', async () => {
    const owner = randomUUID();
    const sessionId = await sessionOf(owner);
    const auth = await bearer(owner);
    for (const body of [{ body: '' }, {}, { body: 'x', clientMsgId: 'c'.repeat(65) }, { body: 'x', extra: true }, { body: 7 }]) {
      const res = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send(body).expect(400);
      expect(res.body.error.code).toBe('invalid_input');
    }
  });

  it('answers 403 to a non-member, 404 for an unknown session, and lets an admin post to any session', async () => {
    const sessionId = await sessionOf(randomUUID());
    const outsider = await bearer(randomUUID());
    const forbidden = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', outsider).send({ body: 'x' }).expect(403);
    expect(forbidden.body.error.code).toBe('forbidden');
    const missing = await request(fx.app).post(`/api/chat/sessions/${randomUUID()}/messages`).set('Authorization', outsider).send({ body: 'x' }).expect(404);
    expect(missing.body.error.code).toBe('not_found');
    const admin = randomUUID();
    const posted = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', await bearer(admin, { admin: true })).send({ body: 'result' }).expect(201);
    expect(posted.body.userId).toBe(admin);
  });

  it('answers 503 unavailable, never a false 201, when the queue cannot take the message', async () => {
    const owner = randomUUID();
    const sessionId = await sessionOf(owner);
    fx.queue.failing = true;
    try {
      const res = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', await bearer(owner)).send({ body: 'lost?' }).expect(503);
      expect(res.body.error.code).toBe('unavailable');
    } finally {
      fx.queue.failing = false;
    }
    expect(await fx.state.recent(sessionId, 0)).toEqual([]);
  });
});

describe('the per-caller rate limit on posted messages', () => {
  let limited: Fixture;
  beforeAll(async () => {
    limited = await createFixture({ env: { RATE_LIMIT_PER_SEC: '2', RATE_LIMIT_BURST: '3' } });
  });
  afterAll(() => limited.close());

  it('answers 429 with Retry-After once a user passes the burst, without affecting other users or admins', async () => {
    const [owner, colleague] = [randomUUID(), randomUUID()];
    const created = await request(limited.app).post('/api/chat/sessions').set('Authorization', await bearer(owner)).send({ members: [colleague] }).expect(201);
    const url = `/api/chat/sessions/${created.body.id as string}/messages`;
    const auth = await bearer(owner);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await request(limited.app).post(url).set('Authorization', auth).send({ body: `m${i}` })).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    const refused = await request(limited.app).post(url).set('Authorization', auth).send({ body: 'again' }).expect(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The limit is per caller: a colleague in the same session still posts.
    await request(limited.app).post(url).set('Authorization', await bearer(colleague)).send({ body: 'mine' }).expect(201);
    const admin = await bearer(randomUUID(), { admin: true });
    for (let i = 0; i < 6; i++) await request(limited.app).post(url).set('Authorization', admin).send({ body: `a${i}` }).expect(201);
  });
});
