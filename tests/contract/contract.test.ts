import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { signToken } from '@chat/auth';
import type { Frame, TestClient } from '@chat/gateway/testing';
import { ERROR_CODES, type ChatMessage } from '@chat/protocol';
import { NATS, POSTGRES, REDIS, realServicesAvailable } from '../support/services.ts';
import { startStack, type StackKind } from '../support/stack.ts';
import { Harness, range, seqs, sleep } from './harness.ts';

// The embedded mode needs nothing outside the process; the services mode needs the real ones
// (in CI their absence fails the run, elsewhere it is announced and that half is left out).
const kinds: StackKind[] = (await realServicesAvailable(POSTGRES, REDIS, NATS)) ? ['embedded', 'services'] : ['embedded'];

/** Ack of a send, as the sender sees it. */
type Ack = Frame & { id: string; seq: number };

function send(client: TestClient, clientMsgId: string, body = `body of ${clientMsgId}`, extra: Record<string, unknown> = {}): void {
  client.send({ type: 'send', clientMsgId, body, ...extra });
}

async function ack(client: TestClient, clientMsgId: string): Promise<Ack> {
  return (await client.next((frame) => frame.type === 'ack' && frame['clientMsgId'] === clientMsgId)) as Ack;
}

async function errorFor(client: TestClient): Promise<Frame> {
  return client.nextOfType('error');
}

describe.each(kinds)('the chat contract over the %s backend', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    // A short recent list, so a resume from far back has to read the store as well.
    h = new Harness(await startStack(kind, { env: { RECENT_MESSAGES: '5' } }));
  });

  afterEach(() => {
    h.closeAll();
  });

  afterAll(async () => {
    await h.stack.stop();
  });

  describe('order and fan-out', () => {
    it('numbers a session from 1 upwards, one more per message, and says the head in the welcome', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const client = h.open(0, `/ws/chat/${sessionId}?token=${await h.stack.token(alice)}`);
      await expect(client.nextOfType('welcome')).resolves.toMatchObject({ type: 'welcome', sessionId, userId: alice, seq: 0 });
      for (let i = 1; i <= 3; i++) {
        send(client, `m${i}`);
        await expect(ack(client, `m${i}`)).resolves.toMatchObject({ seq: i });
      }
      const later = h.open(1, `/ws/chat/${sessionId}?token=${await h.stack.token(alice)}`);
      await expect(later.nextOfType('welcome')).resolves.toMatchObject({ seq: 3 });
    });

    it('delivers every message once, in seq order, to every member on either replica while senders on both replicas send at once', async () => {
      const users = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      const sessionId = await h.createSession(users);
      const receivers = [await h.chat(0, sessionId, users[0]!), await h.chat(0, sessionId, users[1]!), await h.chat(1, sessionId, users[2]!), await h.chat(1, sessionId, users[3]!)];
      const senders = [receivers[0]!, receivers[2]!];
      const perSender = 25;
      for (let i = 0; i < perSender; i++) for (const [n, sender] of senders.entries()) send(sender, `s${n}-${i}`);
      const acks = (await Promise.all(senders.map((sender) => sender.take('ack', perSender)))).flat() as Ack[];
      const total = perSender * senders.length;
      expect(acks.map((a) => a.seq).sort((x, y) => x - y)).toEqual(range(1, total));
      const idOfSeq = new Map(acks.map((a) => [a.seq, a.id]));
      for (const receiver of receivers) await receiver.take('message', total);
      await sleep(200);
      for (const receiver of receivers) {
        const messages = receiver.ofType('message');
        expect(seqs(messages)).toEqual(range(1, total));
        for (const message of messages) expect(message['id']).toBe(idOfSeq.get(message['seq'] as number));
      }
    });

    it('delivers a message posted over REST to the live sockets on both replicas, in the same sequence', async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, bob]);
      const onA = await h.chat(0, sessionId, alice);
      const onB = await h.chat(1, sessionId, bob);
      send(onA, 'first');
      await ack(onA, 'first');
      const posted = await h.api<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { token: await h.adminToken(), body: { body: 'analysis result', metadata: { kind: 'report' } } });
      expect(posted.status).toBe(201);
      expect(posted.body).toMatchObject({ type: 'message', sessionId, seq: 2, body: 'analysis result', metadata: { kind: 'report' } });
      expect(Number.isNaN(Date.parse(posted.body.timestamp))).toBe(false);
      for (const client of [onA, onB]) {
        await expect(client.next((frame) => frame.type === 'message' && frame['seq'] === 2)).resolves.toMatchObject({ id: posted.body.id, body: 'analysis result', userId: posted.body.userId });
      }
      const byMember = await h.api<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { token: await h.stack.token(bob), body: { body: 'from bob over REST' } });
      expect(byMember).toMatchObject({ status: 201, body: { seq: 3, userId: bob } });
      await expect(onA.next((frame) => frame.type === 'message' && frame['seq'] === 3)).resolves.toMatchObject({ id: byMember.body.id });
    });
  });

  describe('status socket', () => {
    it('shows presence and typing across replicas: one join per user, a leave when the last connection goes', async () => {
      const [alice, watcher] = [randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, watcher]);
      const status = h.open(1, `/ws/status/${sessionId}?token=${await h.stack.token(watcher)}`);
      await expect(status.nextOfType('presence')).resolves.toMatchObject({ type: 'presence', online: [] });
      const first = await h.chat(0, sessionId, alice);
      await expect(status.nextOfType('join')).resolves.toMatchObject({ userId: alice });
      const second = await h.chat(1, sessionId, alice);
      second.send({ type: 'typing' });
      await expect(status.nextOfType('typing')).resolves.toMatchObject({ userId: alice });
      first.close();
      await first.closed;
      second.close();
      await expect(status.nextOfType('leave')).resolves.toEqual({ type: 'leave', userId: alice });
      expect(status.ofType('join')).toHaveLength(1);
      expect(status.ofType('leave')).toHaveLength(1);
    });
  });

  describe('idempotence', () => {
    it('acks a repeated clientMsgId with the first id and seq, on the same socket, after a reconnect and over REST, and stores one row', async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, bob]);
      const watcher = await h.chat(1, sessionId, bob);
      const first = await h.chat(0, sessionId, alice);
      send(first, 'retry-me', 'only once');
      const original = await ack(first, 'retry-me');
      expect(original).toMatchObject({ type: 'ack', clientMsgId: 'retry-me', seq: 1 });
      send(first, 'retry-me', 'only once');
      await expect(ack(first, 'retry-me')).resolves.toMatchObject({ id: original.id, seq: 1 });
      first.close();
      await first.closed;
      const reconnected = await h.chat(1, sessionId, alice, { lastSeq: 1 });
      send(reconnected, 'retry-me', 'only once');
      await expect(ack(reconnected, 'retry-me')).resolves.toMatchObject({ id: original.id, seq: 1 });
      const token = await h.stack.token(alice);
      const overRest = await h.api<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { token, body: { body: 'only once', clientMsgId: 'retry-me' } });
      expect(overRest.body).toMatchObject({ id: original.id, seq: 1 });
      // The key is per user: another member's identical clientMsgId is a message of its own.
      send(watcher, 'retry-me', 'bob says');
      await expect(ack(watcher, 'retry-me')).resolves.toMatchObject({ seq: 2 });
      await watcher.take('message', 2);
      await sleep(200);
      expect(seqs(watcher.ofType('message'))).toEqual([1, 2]);
      // Resumed after seq 1, the retried send delivers nothing new: bob's message is all it gets.
      await reconnected.next((frame) => frame.type === 'message' && frame['seq'] === 2);
      expect(reconnected.ofType('message').map((frame) => [frame['seq'], frame['body']])).toEqual([[2, 'bob says']]);
      const rows = await h.persisted(sessionId, 2);
      await sleep(300);
      const settled = await h.persisted(sessionId, 2);
      expect(settled).toEqual(rows);
      expect(rows.map((row) => [row.seq, row.id, row.body])).toEqual([
        [1, original.id, 'only once'],
        [2, expect.any(String), 'bob says'],
      ]);
    });
  });

  describe('durability', () => {
    it('shows an acked message in history at once and writes each to the store exactly once', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const client = await h.chat(0, sessionId, alice);
      const token = await h.stack.token(alice);
      send(client, 'keep', 'keep me', { metadata: { ticket: 7 } });
      const kept = await ack(client, 'keep');
      const history = await h.api<{ messages: ChatMessage[]; hasMore: boolean }>('GET', `/api/chat/history/${sessionId}`, { token });
      expect(history.status).toBe(200);
      expect(history.body.messages).toEqual([expect.objectContaining({ id: kept.id, seq: 1, body: 'keep me', userId: alice, metadata: { ticket: 7 } })]);
      // Each message is readable the moment its ack arrives, whether or not the persister has run.
      const acks: Ack[] = [];
      for (let i = 0; i < 19; i++) {
        send(client, `more${i}`);
        const acked = await ack(client, `more${i}`);
        acks.push(acked);
        const page = await h.api<{ messages: ChatMessage[] }>('GET', `/api/chat/history/${sessionId}?after=${acked.seq - 1}&limit=1`, { token });
        expect(page.body.messages.map((message) => [message.seq, message.id])).toEqual([[acked.seq, acked.id]]);
      }
      await h.persisted(sessionId, 20);
      // Long enough for a redelivery to have shown up as a second row.
      await sleep(500);
      const rows = await h.persisted(sessionId, 20);
      expect(rows.map((row) => row.seq)).toEqual(range(1, 20));
      expect(new Set(rows.map((row) => row.id)).size).toBe(20);
      expect(rows[0]).toMatchObject({ id: kept.id, sessionId, userId: alice, body: 'keep me', metadata: { ticket: 7 } });
      for (const a of acks) expect(rows.find((row) => row.seq === a.seq)?.id).toBe(a.id);
      const all = await h.api<{ messages: ChatMessage[]; hasMore: boolean }>('GET', `/api/chat/history/${sessionId}?after=0&limit=500`, { token });
      expect(all.body).toMatchObject({ hasMore: false });
      expect(all.body.messages.map((message) => message.id)).toEqual(rows.map((row) => row.id));
    });
  });

  describe('resume', () => {
    it('resumes with lastSeq on the other replica with no gap and no duplicate, then goes live', async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, bob]);
      const sender = await h.chat(0, sessionId, alice);
      const reader = await h.chat(0, sessionId, bob);
      for (let i = 1; i <= 3; i++) send(sender, `early${i}`);
      await reader.take('message', 3);
      reader.close();
      await reader.closed;
      for (let i = 1; i <= 12; i++) send(sender, `missed${i}`);
      await sender.take('ack', 15);
      // Seqs 4..10 have left the five-message recent list: once written, only the store has them.
      await h.persisted(sessionId, 15);
      const resumed = h.open(1, `/ws/chat/${sessionId}?token=${await h.stack.token(bob)}&lastSeq=3`);
      await expect(resumed.nextOfType('welcome')).resolves.toMatchObject({ seq: 15 });
      await resumed.take('message', 12);
      send(sender, 'live');
      await resumed.next((frame) => frame.type === 'message' && frame['seq'] === 16);
      await sleep(200);
      expect(seqs(resumed.ofType('message'))).toEqual(range(4, 16));
      const fromStart = await h.chat(0, sessionId, bob, { lastSeq: 0 });
      await fromStart.take('message', 16);
      await sleep(100);
      expect(seqs(fromStart.ofType('message'))).toEqual(range(1, 16));
    });
  });

  describe('closing a session', () => {
    it('sends session_closed then 4404 to every socket on both replicas, refuses new ones with 4404, and keeps the messages for admins', async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, bob]);
      const onA = await h.chat(0, sessionId, alice);
      const onB = await h.chat(1, sessionId, bob);
      const status = h.open(1, `/ws/status/${sessionId}?token=${await h.stack.token(alice)}`);
      await status.nextOfType('presence');
      send(onA, 'before-close');
      const kept = await ack(onA, 'before-close');
      const byMember = await h.api('DELETE', `/api/chat/sessions/${sessionId}`, { token: await h.stack.token(alice) });
      expect(byMember.status).toBe(403);
      const closed = await h.api('DELETE', `/api/chat/sessions/${sessionId}`, { token: await h.adminToken() });
      expect(closed.status).toBe(204);
      for (const client of [onA, onB, status]) {
        await expect(client.closed).resolves.toMatchObject({ code: 4404 });
        expect(client.frames.at(-1)).toEqual({ type: 'session_closed' });
      }
      for (const replica of [0, 1]) {
        const late = h.open(replica, `/ws/chat/${sessionId}?token=${await h.stack.token(alice)}`);
        await late.opened();
        await expect(late.closed).resolves.toMatchObject({ code: 4404 });
      }
      const posted = await h.api('POST', `/api/chat/sessions/${sessionId}/messages`, { token: await h.stack.token(alice), body: { body: 'too late' } });
      expect(posted.status).toBe(404);
      const audit = await h.api<{ messages: ChatMessage[] }>('GET', `/api/chat/history/${sessionId}`, { token: await h.adminToken() });
      expect(audit).toMatchObject({ status: 200, body: { messages: [expect.objectContaining({ id: kept.id })] } });
      await expect(h.persisted(sessionId, 1)).resolves.toEqual([expect.objectContaining({ id: kept.id })]);
    });
  });

  describe('refused connections', () => {
    const refusals: [string, (ids: { member: string; sessionId: string }) => Promise<string>, number][] = [
      ['no token', ({ sessionId }) => Promise.resolve(`/ws/chat/${sessionId}`), 4401],
      ['a token that is not a JWT', ({ sessionId }) => Promise.resolve(`/ws/chat/${sessionId}?token=not-a-jwt`), 4401],
      ['a token signed with another key', async ({ member, sessionId }) => `/ws/chat/${sessionId}?token=${await forged(member)}`, 4401],
      ['an expired token', async ({ member, sessionId }) => `/ws/chat/${sessionId}?token=${await h.stack.token(member, { ttlSeconds: -3600 })}`, 4401],
      ['a user who is not a member', async ({ sessionId }) => `/ws/chat/${sessionId}?token=${await h.stack.token(randomUUID())}`, 4403],
      ['a non-member on the status socket', async ({ sessionId }) => `/ws/status/${sessionId}?token=${await h.stack.token(randomUUID())}`, 4403],
      ['an unknown session', async ({ member }) => `/ws/chat/${randomUUID()}?token=${await h.stack.token(member)}`, 4404],
      ['a session id that is not a UUID', async ({ member }) => `/ws/chat/not-a-session?token=${await h.stack.token(member)}`, 4404],
    ];

    it.each(refusals)('refuses %s after the upgrade, by close code', async (_name, path, code) => {
      const member = randomUUID();
      const sessionId = await h.createSession([member]);
      for (const replica of [0, 1]) {
        const client = h.open(replica, await path({ member, sessionId }));
        await client.opened();
        await expect(client.closed).resolves.toMatchObject({ code });
        expect(client.ofType('welcome')).toHaveLength(0);
      }
    });
  });

  describe('admission', () => {
    it('takes the token from the Authorization header as well as from the query', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const client = h.open(1, `/ws/chat/${sessionId}`, { authorization: `Bearer ${await h.stack.token(alice)}` });
      await expect(client.nextOfType('welcome')).resolves.toMatchObject({ userId: alice });
    });

    it('admits a browser Origin listed in ALLOWED_ORIGINS and refuses any other with 4403', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const path = `/ws/chat/${sessionId}?token=${await h.stack.token(alice)}`;
      const allowed = h.open(0, path, { origin: h.stack.config.allowedOrigins[0] ?? '' });
      await expect(allowed.nextOfType('welcome')).resolves.toMatchObject({ userId: alice });
      const foreign = h.open(0, path, { origin: 'https://evil.example' });
      await foreign.opened();
      // 4403 also means "not a member": the reason tells the two apart, and a refused socket is told nothing.
      await expect(foreign.closed).resolves.toEqual({ code: 4403, reason: ERROR_CODES.origin_refused.message });
      expect(foreign.frames).toEqual([]);
    });

    it('admits the page a gateway served itself on whatever port, and says an origin refusal is about the origin', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const path = `/ws/chat/${sessionId}?token=${await h.stack.token(alice)}`;
      const [ownOrigin, otherOrigin] = h.stack.gatewayUrls;
      expect(h.stack.config.allowedOrigins).not.toContain(ownOrigin);
      const own = h.open(0, path, { origin: ownOrigin });
      await expect(own.nextOfType('welcome')).resolves.toMatchObject({ userId: alice });
      // The other replica's page is another origin: not listed, not this gateway's own.
      const other = h.open(0, path, { origin: otherOrigin });
      await expect(other.closed).resolves.toEqual({ code: 4403, reason: ERROR_CODES.origin_refused.message });
      const stranger = h.open(0, `/ws/chat/${sessionId}?token=${await h.stack.token(randomUUID())}`, { origin: ownOrigin });
      await expect(stranger.closed).resolves.toEqual({ code: 4403, reason: ERROR_CODES.forbidden.message });
    });
  });

  describe('bad input', () => {
    it('answers a malformed frame with invalid_frame, keeps the socket open and changes nothing', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const client = await h.chat(0, sessionId, alice);
      const malformed: unknown[] = [
        'not json',
        '[1,2,3]',
        { type: 'launch' },
        { type: 'send', body: 'no clientMsgId' },
        { type: 'send', clientMsgId: 'x'.repeat(65), body: 'clientMsgId too long' },
        { type: 'send', clientMsgId: 'empty', body: '' },
      ];
      for (const frame of malformed) {
        client.send(frame);
        await expect(errorFor(client)).resolves.toMatchObject({ type: 'error', code: 'invalid_frame', message: expect.any(String) });
      }
      client.send({ type: 'ping' });
      await expect(client.nextOfType('pong')).resolves.toEqual({ type: 'pong' });
      send(client, 'after');
      await expect(ack(client, 'after')).resolves.toMatchObject({ seq: 1 });
    });

    it('refuses a body longer than MAX_MESSAGE_CHARS or metadata over 4 KiB with too_large, over WebSocket and REST', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const client = await h.chat(1, sessionId, alice);
      const max = h.stack.config.limits.maxMessageChars;
      send(client, 'long', 'x'.repeat(max + 1));
      await expect(errorFor(client)).resolves.toMatchObject({ code: 'too_large', clientMsgId: 'long' });
      send(client, 'heavy', 'small', { metadata: { blob: 'y'.repeat(5000) } });
      await expect(errorFor(client)).resolves.toMatchObject({ code: 'too_large', clientMsgId: 'heavy' });
      send(client, 'just-fits', 'x'.repeat(max));
      await expect(ack(client, 'just-fits')).resolves.toMatchObject({ seq: 1 });
      const rest = await h.api('POST', `/api/chat/sessions/${sessionId}/messages`, { token: await h.stack.token(alice), body: { body: 'x'.repeat(max + 1) } });
      expect(rest.status).toBe(413);
      expect(rest.body.error.code).toBe('too_large');
    });

    it('closes with 1009 a frame larger than MAX_FRAME_BYTES', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const client = await h.chat(0, sessionId, alice);
      send(client, 'huge', 'x'.repeat(h.stack.config.limits.maxFrameBytes + 1));
      await expect(client.closed).resolves.toMatchObject({ code: 1009 });
    });

    it('answers REST calls without a token, from a non-member, for an unknown session and with an invalid body by status and error code', async () => {
      const [alice, stranger] = [randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice]);
      const path = `/api/chat/sessions/${sessionId}/messages`;
      const cases: [Promise<{ status: number; body: { error: { code: string } } }>, number][] = [
        [h.api('POST', path, { body: { body: 'hi' } }), 401],
        [h.api('POST', path, { token: 'not-a-jwt', body: { body: 'hi' } }), 401],
        [h.api('POST', path, { token: await h.stack.token(stranger), body: { body: 'hi' } }), 403],
        [h.api('POST', `/api/chat/sessions/${randomUUID()}/messages`, { token: await h.stack.token(alice), body: { body: 'hi' } }), 404],
        [h.api('POST', path, { token: await h.stack.token(alice), body: { text: 'wrong field' } }), 400],
        [h.api('POST', path, { token: await h.stack.token(alice), body: '{"body": ' }), 400],
        [h.api('GET', `/api/chat/history/${sessionId}?limit=501`, { token: await h.stack.token(alice) }), 400],
      ];
      for (const [call, status] of cases) {
        const answer = await call;
        expect(answer.status).toBe(status);
        expect(answer.body.error).toEqual({ code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) });
      }
      await sleep(100);
      expect((await h.stack.store.history(sessionId, { limit: 10 })).messages).toEqual([]);
    });
  });

  describe('rate limit', () => {
    it('answers frames past the burst with rate_limited and keeps a socket that slows down', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const client = await h.chat(0, sessionId, alice);
      const { rateBurst } = h.stack.config.limits;
      // Twenty past the burst, so a slow machine refilling a few tokens meanwhile still shows refusals.
      const sent = rateBurst + 20;
      for (let i = 0; i < sent; i++) client.send({ type: 'ping' });
      const answers = await Promise.all(Array.from({ length: sent }, () => client.next((frame) => frame.type === 'pong' || frame.type === 'error')));
      const refused = answers.filter((frame) => frame.type === 'error');
      expect(refused.length).toBeGreaterThanOrEqual(5);
      for (const frame of refused) expect(frame).toMatchObject({ code: 'rate_limited' });
      await sleep(1_000);
      send(client, 'calm');
      await expect(ack(client, 'calm')).resolves.toMatchObject({ seq: 1 });
    });

    it('closes with 4429 a socket that keeps sending far past the limit, after the acks of every send it accepted', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const client = await h.chat(1, sessionId, alice);
      const { rateBurst } = h.stack.config.limits;
      for (let i = 0; i < rateBurst * 4; i++) send(client, `flood${i}`);
      await expect(client.closed).resolves.toMatchObject({ code: 4429 });
      // The bucket starts full, so at least the first burst was accepted: each has its ack, written
      // before the close, and what was acked is exactly what the session holds.
      const acked = client.ofType('ack').map((frame) => String(frame['clientMsgId']));
      expect(acked).toEqual(expect.arrayContaining(Array.from({ length: rateBurst }, (_, i) => `flood${i}`)));
      const token = await h.stack.token(alice);
      const all = await h.api<{ messages: ChatMessage[] }>('GET', `/api/chat/history/${sessionId}?after=0&limit=500`, { token });
      expect(all.body.messages.map((message) => message.clientMsgId).sort()).toEqual([...acked].sort());
    });

    it('answers REST posts past the limit with 429 rate_limited', async () => {
      const alice = randomUUID();
      const sessionId = await h.createSession([alice]);
      const token = await h.stack.token(alice);
      const { rateBurst, ratePerSec } = h.stack.config.limits;
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: rateBurst * 2 + 20 }, (_, i) => h.api('POST', `/api/chat/sessions/${sessionId}/messages`, { token, body: { body: `burst ${i}` } })));
      // The budget holds the burst and refills at the rate while the posts are answered: on a slow
      // machine it refills more, so the bound follows the time the posts took.
      const mostAccepted = rateBurst + Math.ceil((ratePerSec * (Date.now() - started)) / 1000);
      const limited = answers.filter((answer) => answer.status === 429);
      expect(answers.length - limited.length).toBeLessThanOrEqual(mostAccepted);
      expect(limited.length).toBeGreaterThanOrEqual(Math.min(10, answers.length - mostAccepted));
      for (const answer of limited) expect(answer.body.error.code).toBe('rate_limited');
      expect(answers.every((answer) => answer.status === 201 || answer.status === 429)).toBe(true);
    });
  });

  function forged(userId: string): Promise<string> {
    return signToken('another-secret-that-is-long-enough-0123456789', { userId });
  }
});
