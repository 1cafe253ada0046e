import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { ChatClient, type ChatClientOptions } from '@chat/client';
import type { Frame, TestClient } from '@chat/gateway/testing';
import { NATS, POSTGRES, REDIS, realServicesAvailable } from '../support/services.ts';
import { startStack, type StackKind } from '../support/stack.ts';
import { Harness, sleep } from './harness.ts';

/**
 * The limits that belong to a user rather than to one socket: sends per second over all of the
 * user's sockets on both replicas (and REST), sessions created per minute, and the end of a
 * connection's rights when its token expires. FUZZ_RUNS and FUZZ_SEED widen or replay the
 * property runs (`FUZZ_RUNS=50 pnpm test:unit -- tests/contract/user-limits` for a longer run).
 */
const kinds: StackKind[] = (await realServicesAvailable(POSTGRES, REDIS, NATS)) ? ['embedded', 'services'] : ['embedded'];
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 4);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261201);

const PER_SEC = 4;
const BURST = 8;
const SESSIONS_PER_MINUTE = 3;
const SOCKETS = 6;

type Answer = 'ack' | 'refused' | 'none';

/** How a send was answered: an ack, an error, or nothing before the socket closed. */
async function answerOf(client: TestClient, clientMsgId: string): Promise<{ answer: Answer; frame?: Frame }> {
  const answered = client
    .next((frame) => (frame.type === 'ack' || frame.type === 'error') && frame['clientMsgId'] === clientMsgId, 10_000)
    .then((frame) => ({ answer: frame.type === 'ack' ? ('ack' as const) : ('refused' as const), frame }))
    .catch(() => ({ answer: 'none' as const }));
  // A socket cut off at 4429 writes the answers it owes first, so anything after its close is unanswered.
  const closed = client.closed.then(async () => {
    await sleep(50);
    return { answer: 'none' as const };
  });
  return Promise.race([answered, closed]);
}

describe.each(kinds)('per-user limits over the %s backend', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = new Harness(
      await startStack(kind, {
        env: { RATE_LIMIT_PER_SEC: String(PER_SEC), RATE_LIMIT_BURST: String(BURST), SESSION_CREATE_PER_MINUTE: String(SESSIONS_PER_MINUTE) },
      }),
    );
  });

  afterEach(() => {
    h.closeAll();
  });

  afterAll(async () => {
    await h.stack.stop();
  });

  describe('sends per user', () => {
    it('for any interleaving over sockets on both replicas, accepts at most the burst plus the rate for the time taken, and no refused send takes a seq', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat({ max: SOCKETS - 1 }), { minLength: 1, maxLength: 40 }), async (order) => {
          const user = randomUUID();
          const bystander = randomUUID();
          const sessionId = await h.createSession([user, bystander]);
          const sockets = await Promise.all(Array.from({ length: SOCKETS }, (_, i) => h.chat(i % 2, sessionId, user)));
          const other = await h.chat(1, sessionId, bystander);
          const started = Date.now();
          const answers = order.map((socket, i) => {
            const client = sockets[socket];
            if (client === undefined) throw new Error('no socket');
            const clientMsgId = `s${i}`;
            client.send({ type: 'send', clientMsgId, body: `from socket ${socket}` });
            return answerOf(client, clientMsgId);
          });
          // Another user sending at the same time has a budget of their own.
          const bystanderAnswers = [0, 1, 2].map((i) => {
            other.send({ type: 'send', clientMsgId: `b${i}`, body: 'bystander' });
            return answerOf(other, `b${i}`);
          });
          const settled = await Promise.all(answers);
          const elapsedSec = (Date.now() - started) / 1000;
          const accepted = settled.filter((a) => a.answer === 'ack').length;
          expect(accepted).toBeLessThanOrEqual(BURST + Math.floor(PER_SEC * elapsedSec));
          // The budget is shared, not zero: the first burst of sends gets through.
          expect(accepted).toBeGreaterThanOrEqual(Math.min(order.length, BURST));
          for (const refused of settled.filter((a) => a.answer === 'refused')) expect(refused.frame?.['code']).toBe('rate_limited');
          expect((await Promise.all(bystanderAnswers)).map((a) => a.answer)).toEqual(['ack', 'ack', 'ack']);
          // Refused sends consume no seq: the acks are exactly 1..n.
          const seqs = [...settled, ...(await Promise.all(bystanderAnswers))].flatMap((a) => (a.answer === 'ack' ? [Number(a.frame?.['seq'])] : []));
          expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
          h.closeAll();
        }),
        { numRuns: RUNS, seed: SEED },
      );
    }, 180_000);

    it('shares one budget between a user\u2019s sockets and their REST posts', async () => {
      const user = randomUUID();
      const sessionId = await h.createSession([user]);
      const [a, b] = [await h.chat(0, sessionId, user), await h.chat(1, sessionId, user)];
      const token = await h.stack.token(user);
      const each = BURST + 4;
      const started = Date.now();
      const overSockets = Array.from({ length: each }, (_, i) => {
        const client = i % 2 === 0 ? a : b;
        client.send({ type: 'send', clientMsgId: `w${i}`, body: 'over the socket' });
        return answerOf(client, `w${i}`).then((answer) => answer.answer === 'ack');
      });
      const overRest = Array.from({ length: each }, (_, i) =>
        h.api('POST', `/api/chat/sessions/${sessionId}/messages`, { token, body: { body: 'over REST', clientMsgId: `r${i}` } }).then((answer) => {
          if (answer.status !== 201) expect(answer).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
          return answer.status === 201;
        }),
      );
      const accepted = [...(await Promise.all(overSockets)), ...(await Promise.all(overRest))].filter(Boolean).length;
      const elapsedSec = (Date.now() - started) / 1000;
      // Separate budgets would accept up to twice the burst.
      expect(accepted).toBeLessThanOrEqual(BURST + Math.floor(PER_SEC * elapsedSec));
      expect(accepted).toBeGreaterThanOrEqual(BURST);
      // Refused sends and posts store nothing: the head is the number accepted.
      const fresh = h.open(0, `/ws/chat/${sessionId}?token=${token}`);
      expect((await fresh.nextOfType('welcome'))['seq']).toBe(accepted);
    });
  });

  describe('sessions created per user', () => {
    it('allows SESSION_CREATE_PER_MINUTE, then answers 429 rate_limited with Retry-After; bad bodies cost nothing and other users are unaffected', async () => {
      const user = randomUUID();
      const token = await h.stack.token(user);
      for (let i = 0; i < 4; i++) {
        const bad = await h.api('POST', '/api/chat/sessions', { token, body: { title: 42 } });
        expect(bad.status).toBe(400);
      }
      for (let i = 0; i < SESSIONS_PER_MINUTE; i++) {
        expect((await h.api('POST', '/api/chat/sessions', { token, body: { title: `t${i}` } })).status).toBe(201);
      }
      const refused = await fetch(`${h.stack.apiUrl}/api/chat/sessions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('rate_limited');
      expect(body.error.message).toContain('sessions');
      // An admin backend counts under its own id like anyone else; another id is not affected.
      const admin = await h.stack.token(user, { admin: true });
      expect((await h.api('POST', '/api/chat/sessions', { token: admin, body: {} })).status).toBe(429);
      expect((await h.api('POST', '/api/chat/sessions', { token: await h.stack.token(randomUUID()), body: {} })).status).toBe(201);
    });
  });

  describe('token expiry', () => {
    it('closes chat and status sockets with 4401 "token expired" when the token runs out', async () => {
      const user = randomUUID();
      const sessionId = await h.createSession([user]);
      const token = await h.stack.token(user, { ttlSeconds: 2 });
      const chat = h.open(0, `/ws/chat/${sessionId}?token=${token}`);
      const status = h.open(1, `/ws/status/${sessionId}?token=${token}`);
      await chat.nextOfType('welcome');
      await status.nextOfType('presence');
      const [chatClosed, statusClosed] = await Promise.all([chat.closed, status.closed]);
      expect(chatClosed).toEqual({ code: 4401, reason: 'token expired' });
      expect(statusClosed).toEqual({ code: 4401, reason: 'token expired' });
    }, 15_000);

    it('keeps a socket that sent a fresh token for the same user before expiry, and it can still send', async () => {
      const user = randomUUID();
      const sessionId = await h.createSession([user]);
      const short = await h.stack.token(user, { ttlSeconds: 2 });
      const chat = h.open(0, `/ws/chat/${sessionId}?token=${short}`);
      const status = h.open(1, `/ws/status/${sessionId}?token=${short}`);
      await chat.nextOfType('welcome');
      await status.nextOfType('presence');
      const fresh = await h.stack.token(user, { ttlSeconds: 600 });
      chat.send({ type: 'auth', token: fresh });
      status.send({ type: 'auth', token: fresh });
      for (const client of [chat, status]) {
        const answer = await client.nextOfType('authenticated');
        expect(Date.parse(String(answer['expiresAt']))).toBeGreaterThan(Date.now() + 590_000);
      }
      await sleep(3_000);
      chat.send({ type: 'send', clientMsgId: 'after-expiry', body: 'still here' });
      await expect(chat.next((f) => f.type === 'ack' && f['clientMsgId'] === 'after-expiry')).resolves.toMatchObject({ seq: 1 });
      status.send({ type: 'ping' });
      await expect(status.nextOfType('pong')).resolves.toMatchObject({ type: 'pong' });
    }, 15_000);

    it('answers a bad token with unauthorized and changes nothing; a token of another user closes with 4403', async () => {
      const user = randomUUID();
      const sessionId = await h.createSession([user]);
      const token = await h.stack.token(user, { ttlSeconds: 2 });
      const chat = h.open(0, `/ws/chat/${sessionId}?token=${token}`);
      await chat.nextOfType('welcome');
      chat.send({ type: 'auth', token: 'garbage' });
      await expect(chat.nextOfType('error')).resolves.toMatchObject({ code: 'unauthorized' });
      // Nothing was renewed: the original expiry still closes the socket.
      await expect(chat.closed).resolves.toEqual({ code: 4401, reason: 'token expired' });

      const other = h.open(1, `/ws/chat/${sessionId}?token=${await h.stack.token(user)}`);
      await other.nextOfType('welcome');
      other.send({ type: 'auth', token: await h.stack.token(randomUUID()) });
      await expect(other.nextOfType('error')).resolves.toMatchObject({ code: 'forbidden' });
      await expect(other.closed).resolves.toMatchObject({ code: 4403 });
    }, 15_000);
  });

  describe('the SDK renews its token', () => {
    const clients: ChatClient[] = [];
    afterEach(() => {
      for (const client of clients.splice(0)) client.close();
    });

    function sdk(options: Omit<ChatClientOptions, 'wsUrl' | 'apiUrl'>): { client: ChatClient; welcomes: number[]; closes: number[] } {
      const client = new ChatClient({ ...options, wsUrl: h.stack.gatewayUrls[0].replace(/^http/, 'ws'), apiUrl: h.stack.apiUrl, environment: null, backoff: { initialDelayMs: 100, maxDelayMs: 500 } });
      clients.push(client);
      const welcomes: number[] = [];
      const closes: number[] = [];
      client.on('welcome', (frame) => welcomes.push(frame.seq));
      client.on('state', (state) => {
        if (state.status === 'reconnecting') closes.push(state.lastCloseCode);
        if (state.status === 'closed') closes.push(state.code);
      });
      return { client, welcomes, closes };
    }

    it('sends a fresh token before expiry, so neither socket is closed', async () => {
      const user = randomUUID();
      const sessionId = await h.createSession([user]);
      let fetched = 0;
      const tokenProvider = () => {
        fetched++;
        return h.stack.token(user, { ttlSeconds: 600 });
      };
      const { client, welcomes, closes } = sdk({ sessionId, token: await h.stack.token(user, { ttlSeconds: 3 }), tokenProvider, renewBeforeMs: 2_000 });
      const renewed = new Promise((resolve) => client.once('authenticated', resolve));
      client.connect();
      await renewed;
      await sleep(3_500);
      expect(fetched).toBe(1);
      expect(welcomes).toHaveLength(1);
      expect(closes).toEqual([]);
      await expect(client.send('after the first token expired')).resolves.toMatchObject({ seq: 1 });
    }, 20_000);

    it('after a 4401 fetches a fresh token and reconnects, resuming where it was', async () => {
      const user = randomUUID();
      const sessionId = await h.createSession([user]);
      const tokenProvider = () => h.stack.token(user, { ttlSeconds: 600 });
      const { client, welcomes, closes } = sdk({ sessionId, token: await h.stack.token(user, { ttlSeconds: 2 }), tokenProvider, renewBeforeMs: 0 });
      client.connect();
      await expect(client.send('before expiry')).resolves.toMatchObject({ seq: 1 });
      for (let waited = 0; welcomes.length < 2 && waited < 8_000; waited += 100) await sleep(100);
      expect(closes).toEqual([4401]);
      expect(welcomes).toEqual([0, 1]);
      expect(client.lastSeq).toBe(1);
      await expect(client.send('after renewal')).resolves.toMatchObject({ seq: 2 });
      expect(client.store.getState().messages.map((m) => m.seq)).toEqual([1, 2]);
    }, 20_000);

    it('without a token provider a 4401 is final', async () => {
      const user = randomUUID();
      const sessionId = await h.createSession([user]);
      const { client, closes } = sdk({ sessionId, token: await h.stack.token(user, { ttlSeconds: 2 }) });
      client.connect();
      for (let waited = 0; closes.length === 0 && waited < 8_000; waited += 100) await sleep(100);
      expect(closes).toEqual([4401]);
      expect(client.state).toMatchObject({ status: 'closed', code: 4401, reason: 'token expired' });
    }, 20_000);
  });
});
