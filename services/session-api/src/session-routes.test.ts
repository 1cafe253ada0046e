import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { bearer, createFixture, type Fixture } from '../testing/api-fixture.ts';

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
});
afterAll(() => fx.close());

async function createSession(ownerId: string, body: object = {}): Promise<{ id: string; members: string[] }> {
  const res = await request(fx.app).post('/api/chat/sessions').set('Authorization', await bearer(ownerId)).send(body).expect(201);
  return res.body as { id: string; members: string[] };
}

describe('POST /api/chat/sessions', () => {
  it('creates a session with the contract shape and always adds a non-admin caller to its members', async () => {
    const owner = randomUUID();
    const other = randomUUID();
    const res = await request(fx.app)
      .post('/api/chat/sessions')
      .set('Authorization', await bearer(owner))
      .send({ title: 'Quarterly numbers', members: [other.toUpperCase(), other], metadata: { desk: 'fx' } })
      .expect(201);
    expect(res.body).toEqual({ id: expect.any(String), title: 'Quarterly numbers', members: [other, owner], metadata: { desk: 'fx' }, createdAt: expect.any(String) });
    expect(await fx.store.getSession(res.body.id as string)).toMatchObject({ members: [other, owner] });
    expect(await fx.state.membership(res.body.id as string, owner)).toBe('member');
  });

  it('does not add an admin caller to the members', async () => {
    const member = randomUUID();
    const res = await request(fx.app)
      .post('/api/chat/sessions')
      .set('Authorization', await bearer(randomUUID(), { admin: true }))
      .send({ members: [member] })
      .expect(201);
    expect(res.body).toMatchObject({ title: null, members: [member], metadata: {} });
  });

  it('creates an untitled session from a POST without a body', async () => {
    const owner = randomUUID();
    const res = await request(fx.app).post('/api/chat/sessions').set('Authorization', await bearer(owner)).expect(201);
    expect(res.body).toMatchObject({ title: null, members: [owner], metadata: {} });
  });

  it('refuses members that are not UUIDs, unknown fields and metadata that is not an object with 400', async () => {
    const auth = await bearer(randomUUID());
    for (const body of [{ members: ['bob'] }, { colour: 'red' }, { metadata: [1, 2] }, { title: 42 }]) {
      const res = await request(fx.app).post('/api/chat/sessions').set('Authorization', auth).send(body).expect(400);
      expect(res.body.error.code).toBe('invalid_input');
    }
  });

  it('refuses malformed JSON with 400 invalid_input', async () => {
    const res = await request(fx.app)
      .post('/api/chat/sessions')
      .set('Authorization', await bearer(randomUUID()))
      .set('Content-Type', 'application/json')
      .send('{"title": ')
      .expect(400);
    expect(res.body).toEqual({ error: { code: 'invalid_input', message: expect.any(String) } });
  });

  it('refuses metadata over 4 KiB with 413', async () => {
    const res = await request(fx.app)
      .post('/api/chat/sessions')
      .set('Authorization', await bearer(randomUUID()))
      .send({ metadata: { blob: 'x'.repeat(5000) } })
      .expect(413);
    expect(res.body.error.code).toBe('too_large');
  });
});

describe('GET /api/chat/sessions/{id}', () => {
  it('shows the session to its members and to admins', async () => {
    const owner = randomUUID();
    const session = await createSession(owner, { title: 't' });
    const asMember = await request(fx.app).get(`/api/chat/sessions/${session.id}`).set('Authorization', await bearer(owner)).expect(200);
    expect(asMember.body).toMatchObject({ id: session.id, title: 't', members: [owner] });
    await request(fx.app).get(`/api/chat/sessions/${session.id}`).set('Authorization', await bearer(randomUUID(), { admin: true })).expect(200);
  });

  it('answers 403 to a user who is not a member', async () => {
    const session = await createSession(randomUUID());
    const res = await request(fx.app).get(`/api/chat/sessions/${session.id}`).set('Authorization', await bearer(randomUUID())).expect(403);
    expect(res.body.error.code).toBe('forbidden');
  });

  it('answers 404 for an unknown session and 400 for an id that is not a UUID', async () => {
    const auth = await bearer(randomUUID(), { admin: true });
    const missing = await request(fx.app).get(`/api/chat/sessions/${randomUUID()}`).set('Authorization', auth).expect(404);
    expect(missing.body.error.code).toBe('not_found');
    const bad = await request(fx.app).get('/api/chat/sessions/not-a-uuid').set('Authorization', auth).expect(400);
    expect(bad.body.error.code).toBe('invalid_input');
  });
});

describe('POST /api/chat/sessions/{id}/members', () => {
  it('lets a member add others, who may then read the session and post to it', async () => {
    const owner = randomUUID();
    const newcomer = randomUUID();
    const session = await createSession(owner);
    const res = await request(fx.app)
      .post(`/api/chat/sessions/${session.id}/members`)
      .set('Authorization', await bearer(owner))
      .send({ userIds: [newcomer, owner] })
      .expect(200);
    expect(res.body.members).toEqual([owner, newcomer]);
    await request(fx.app).get(`/api/chat/sessions/${session.id}`).set('Authorization', await bearer(newcomer)).expect(200);
    await request(fx.app).post(`/api/chat/sessions/${session.id}/messages`).set('Authorization', await bearer(newcomer)).send({ body: 'hi' }).expect(201);
  });

  it('lets an admin add members to any session', async () => {
    const session = await createSession(randomUUID());
    const newcomer = randomUUID();
    const res = await request(fx.app)
      .post(`/api/chat/sessions/${session.id}/members`)
      .set('Authorization', await bearer(randomUUID(), { admin: true }))
      .send({ userIds: [newcomer] })
      .expect(200);
    expect(res.body.members).toContain(newcomer);
  });

  it('refuses a non-member with 403, an unknown session with 404 and a bad body with 400', async () => {
    const session = await createSession(randomUUID());
    const outsider = await bearer(randomUUID());
    await request(fx.app).post(`/api/chat/sessions/${session.id}/members`).set('Authorization', outsider).send({ userIds: [randomUUID()] }).expect(403);
    await request(fx.app).post(`/api/chat/sessions/${randomUUID()}/members`).set('Authorization', outsider).send({ userIds: [randomUUID()] }).expect(404);
    const bad = await request(fx.app).post(`/api/chat/sessions/${session.id}/members`).set('Authorization', outsider).send({ userIds: [] }).expect(400);
    expect(bad.body.error.code).toBe('invalid_input');
  });
});

describe('DELETE /api/chat/sessions/{id}', () => {
  it('is for admins only', async () => {
    const owner = randomUUID();
    const session = await createSession(owner);
    const res = await request(fx.app).delete(`/api/chat/sessions/${session.id}`).set('Authorization', await bearer(owner)).expect(403);
    expect(res.body.error.code).toBe('forbidden');
    expect((await fx.store.getSession(session.id))?.closedAt).toBeNull();
  });

  it('closes the session everywhere: store, live state, every replica through the bus; messages stay readable by admins', async () => {
    const owner = randomUUID();
    const admin = await bearer(randomUUID(), { admin: true });
    const session = await createSession(owner);
    const posted = await request(fx.app).post(`/api/chat/sessions/${session.id}/messages`).set('Authorization', await bearer(owner)).send({ body: 'audit me' }).expect(201);
    await fx.store.insertMessages([posted.body]);
    const events: string[] = [];
    await fx.watcher.subscribe(session.id, (payload) => events.push(payload));

    await request(fx.app).delete(`/api/chat/sessions/${session.id}`).set('Authorization', admin).expect(204);

    await new Promise((resolve) => setImmediate(resolve));
    expect(events.map((payload) => JSON.parse(payload) as unknown)).toEqual([{ type: 'session_closed' }]);
    expect(await fx.state.exists(session.id)).toBe(false);
    expect((await fx.store.getSession(session.id))?.closedAt).toEqual(expect.any(String));
    // Closed is unknown to members, for reading and writing alike.
    const ownerAuth = await bearer(owner);
    await request(fx.app).get(`/api/chat/sessions/${session.id}`).set('Authorization', ownerAuth).expect(404);
    await request(fx.app).get(`/api/chat/history/${session.id}`).set('Authorization', ownerAuth).expect(404);
    await request(fx.app).post(`/api/chat/sessions/${session.id}/messages`).set('Authorization', ownerAuth).send({ body: 'late' }).expect(404);
    await request(fx.app).post(`/api/chat/sessions/${session.id}/members`).set('Authorization', ownerAuth).send({ userIds: [randomUUID()] }).expect(404);
    // Admins still see it, for audit, but cannot write to it.
    const seen = await request(fx.app).get(`/api/chat/sessions/${session.id}`).set('Authorization', admin).expect(200);
    expect(seen.body.closedAt).toEqual(expect.any(String));
    const history = await request(fx.app).get(`/api/chat/history/${session.id}`).set('Authorization', admin).expect(200);
    expect(history.body).toEqual({ messages: [posted.body], hasMore: false });
    await request(fx.app).post(`/api/chat/sessions/${session.id}/messages`).set('Authorization', admin).send({ body: 'late' }).expect(404);
    await request(fx.app).post(`/api/chat/sessions/${session.id}/members`).set('Authorization', admin).send({ userIds: [randomUUID()] }).expect(404);
  });

  it('answers 404 for an unknown session and 204 again for a repeated close', async () => {
    const admin = await bearer(randomUUID(), { admin: true });
    await request(fx.app).delete(`/api/chat/sessions/${randomUUID()}`).set('Authorization', admin).expect(404);
    const session = await createSession(randomUUID());
    await request(fx.app).delete(`/api/chat/sessions/${session.id}`).set('Authorization', admin).expect(204);
    await request(fx.app).delete(`/api/chat/sessions/${session.id}`).set('Authorization', admin).expect(204);
  });
});
