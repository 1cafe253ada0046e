import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { TestClient } from '@chat/gateway/testing';
import { MEMBER_REMOVED_REASON, MEMBERS_SCOPE, type ChatMessage, type Session } from '@chat/protocol';
import { NATS, POSTGRES, REDIS, realServicesAvailable } from '../support/services.ts';
import type { StackKind } from '../support/stack.ts';
import { Harness, sleep } from './harness.ts';

// As in contract.test.ts: the embedded half always, the services half where the real ones answer (always in CI).
const kinds: StackKind[] = (await realServicesAvailable(POSTGRES, REDIS, NATS)) ? ['embedded', 'services'] : ['embedded'];

/** How long a removed user's sockets may stay open after the DELETE answered. */
const CLOSE_WITHIN_MS = 1_000;

describe.each(kinds)('membership changes over the %s backend', (kind) => {
  const h = Harness.forSuite(kind);

  const memberPath = (sessionId: string, userId: string) => `/api/chat/sessions/${sessionId}/members/${userId}`;

  /** Resolves with the close and the milliseconds from `since` to it. */
  const closeAfter = async (client: TestClient, since: number) => {
    const closed = await client.closed;
    return { ...closed, ms: Date.now() - since };
  };

  describe('removing a member', () => {
    it("closes the removed user's chat and status sockets on both replicas with 4403 within a second, and keeps everyone else's", async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, bob]);
      const aliceSockets = [await h.chat(0, sessionId, alice), await h.chat(1, sessionId, alice)];
      for (const replica of [0, 1]) {
        const status = h.open(replica, `/ws/status/${sessionId}?token=${await h.stack.token(alice)}`);
        await status.nextOfType('presence');
        aliceSockets.push(status);
      }
      const bobSockets = [await h.chat(0, sessionId, bob), await h.chat(1, sessionId, bob)];

      const started = Date.now();
      const removed = await h.api<Session>('DELETE', memberPath(sessionId, alice), { token: await h.adminToken() });
      expect(removed.status).toBe(200);
      expect(removed.body.members).toEqual([bob]);
      const closes = await Promise.all(aliceSockets.map((socket) => closeAfter(socket, started)));
      for (const close of closes) {
        expect(close).toMatchObject({ code: 4403, reason: MEMBER_REMOVED_REASON });
        expect(close.ms).toBeLessThan(CLOSE_WITHIN_MS);
      }

      // Bob's sockets stay, and still get messages.
      const posted = await h.api<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { token: await h.stack.token(bob), body: { body: 'after the removal' } });
      expect(posted.status).toBe(201);
      for (const socket of bobSockets) await expect(socket.nextOfType('message')).resolves.toMatchObject({ id: posted.body.id });
    });

    it('refuses the removed user afterwards: new sockets on both replicas, history, posting and reading the session', async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, bob]);
      const aliceToken = await h.stack.token(alice);
      expect((await h.api('POST', `/api/chat/sessions/${sessionId}/messages`, { token: aliceToken, body: { body: 'before' } })).status).toBe(201);
      expect((await h.api('DELETE', memberPath(sessionId, alice), { token: await h.adminToken() })).status).toBe(200);

      for (const replica of [0, 1]) {
        for (const route of ['chat', 'status']) {
          const late = h.open(replica, `/ws/${route}/${sessionId}?token=${aliceToken}`);
          await expect(late.closed).resolves.toMatchObject({ code: 4403 });
          expect(late.ofType('welcome')).toHaveLength(0);
        }
      }
      expect((await h.api('GET', `/api/chat/history/${sessionId}`, { token: aliceToken })).status).toBe(403);
      expect((await h.api('GET', `/api/chat/sessions/${sessionId}`, { token: aliceToken })).status).toBe(403);
      const refusedPost = await h.api('POST', `/api/chat/sessions/${sessionId}/messages`, { token: aliceToken, body: { body: 'after' } });
      expect(refusedPost.status).toBe(403);
      // The one message before the removal is all there is: the refused post took no seq.
      const history = await h.api<{ messages: ChatMessage[] }>('GET', `/api/chat/history/${sessionId}`, { token: await h.stack.token(bob) });
      expect(history.body.messages.map((m) => m.body)).toEqual(['before']);
      expect((await h.stack.store.getSession(sessionId))?.members).toEqual([bob]);
    });

    it('lets a member remove itself, but not another without the chat:members scope; with it, another member', async () => {
      const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, bob, carol]);
      const bobSocket = await h.chat(1, sessionId, bob);

      const refused = await h.api('DELETE', memberPath(sessionId, bob), { token: await h.stack.token(alice) });
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: expect.stringContaining(MEMBERS_SCOPE) } } });
      expect((await h.stack.store.getSession(sessionId))?.members).toEqual([alice, bob, carol]);
      await sleep(200);
      expect(bobSocket.ofType('welcome')).toHaveLength(1);
      bobSocket.send({ type: 'ping' });
      await expect(bobSocket.nextOfType('pong')).resolves.toEqual({ type: 'pong' });

      const left = await h.api<Session>('DELETE', memberPath(sessionId, alice), { token: await h.stack.token(alice) });
      expect(left).toMatchObject({ status: 200, body: { members: [bob, carol] } });

      const byModerator = await h.api<Session>('DELETE', memberPath(sessionId, bob), { token: await h.stack.token(carol, { scopes: [MEMBERS_SCOPE] }) });
      expect(byModerator).toMatchObject({ status: 200, body: { members: [carol] } });
      await expect(bobSocket.closed).resolves.toMatchObject({ code: 4403 });
    });

    it('refuses a caller who is not a member even with the scope, a bad user id, no token and an unknown session, changing nothing', async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, bob]);
      const outsider = await h.stack.token(randomUUID(), { scopes: [MEMBERS_SCOPE] });
      expect((await h.api('DELETE', memberPath(sessionId, bob), { token: outsider })).status).toBe(403);
      expect((await h.api('DELETE', memberPath(sessionId, 'not-a-uuid'), { token: await h.adminToken() })).status).toBe(400);
      expect((await h.api('DELETE', memberPath(sessionId, bob))).status).toBe(401);
      expect((await h.api('DELETE', memberPath(randomUUID(), bob), { token: await h.adminToken() })).status).toBe(404);
      expect((await h.stack.store.getSession(sessionId))?.members).toEqual([alice, bob]);
      const bobSocket = await h.chat(0, sessionId, bob);
      expect(bobSocket.ofType('welcome')).toHaveLength(1);
    });

    it('answers a repeated removal with the session unchanged, and refuses removal from a closed session', async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, bob]);
      const admin = await h.adminToken();
      expect((await h.api('DELETE', memberPath(sessionId, alice), { token: admin })).status).toBe(200);
      const again = await h.api<Session>('DELETE', memberPath(sessionId, alice), { token: admin });
      expect(again).toMatchObject({ status: 200, body: { members: [bob] } });
      expect((await h.api('DELETE', `/api/chat/sessions/${sessionId}`, { token: admin })).status).toBe(204);
      expect((await h.api('DELETE', memberPath(sessionId, bob), { token: admin })).status).toBe(404);
    });

    it('lets a removed user back in when added again', async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, bob]);
      const admin = await h.adminToken();
      expect((await h.api('DELETE', memberPath(sessionId, alice), { token: admin })).status).toBe(200);
      expect((await h.api('POST', `/api/chat/sessions/${sessionId}/members`, { token: admin, body: { userIds: [alice] } })).status).toBe(200);
      const back = await h.chat(1, sessionId, alice);
      expect(back.ofType('welcome')).toHaveLength(1);
    });
  });

  describe('changing a session', () => {
    it('replaces the title and metadata given, leaves out what is not given, and clears the title with null', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const admin = await h.adminToken();
      const titled = await h.api<Session>('PATCH', `/api/chat/sessions/${sessionId}`, { token: admin, body: { title: 'Q3 forecast' } });
      expect(titled).toMatchObject({ status: 200, body: { title: 'Q3 forecast', metadata: {}, members: [alice] } });
      const withMeta = await h.api<Session>('PATCH', `/api/chat/sessions/${sessionId}`, { token: await h.stack.token(alice, { scopes: [MEMBERS_SCOPE] }), body: { metadata: { analysisId: 'a-17' } } });
      expect(withMeta).toMatchObject({ status: 200, body: { title: 'Q3 forecast', metadata: { analysisId: 'a-17' } } });
      const cleared = await h.api<Session>('PATCH', `/api/chat/sessions/${sessionId}`, { token: admin, body: { title: null } });
      expect(cleared.body).toMatchObject({ title: null, metadata: { analysisId: 'a-17' } });
      const read = await h.api<Session>('GET', `/api/chat/sessions/${sessionId}`, { token: await h.stack.token(alice) });
      expect(read.body).toMatchObject({ title: null, metadata: { analysisId: 'a-17' } });
    });

    it('refuses bad bodies, a member without the scope, a non-member and a closed session, changing nothing', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const admin = await h.adminToken();
      const path = `/api/chat/sessions/${sessionId}`;
      for (const body of [{}, { title: 5 }, { colour: 'red' }, { metadata: 'x' }, { title: 'x'.repeat(201) }, '{"title":']) {
        const answer = await h.api('PATCH', path, { token: admin, body });
        expect([400, 413]).toContain(answer.status);
        expect(answer.body).toMatchObject({ error: { code: expect.any(String) } });
      }
      expect((await h.api('PATCH', path, { token: await h.stack.token(alice), body: { title: 'mine' } })).status).toBe(403);
      expect((await h.api('PATCH', path, { token: await h.stack.token(randomUUID(), { scopes: [MEMBERS_SCOPE] }), body: { title: 'theirs' } })).status).toBe(403);
      expect((await h.api('PATCH', path, { body: { title: 'nobody' } })).status).toBe(401);
      expect((await h.stack.store.getSession(sessionId))?.title).toBe('contract');
      expect((await h.api('DELETE', path, { token: admin })).status).toBe(204);
      expect((await h.api('PATCH', path, { token: admin, body: { title: 'late' } })).status).toBe(404);
    });
  });
});
