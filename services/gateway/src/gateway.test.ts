import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ChatMessage } from '@chat/protocol';
import type { GatewayTuning } from './gateway.ts';
import { createSession, memoryBackends, startMemoryGateway, TEST_SECRET, TestClient, token, type StartedGateway } from './testing/index.ts';

type Backends = ReturnType<typeof memoryBackends>;

let backends: Backends;
let started: StartedGateway;
const clients: TestClient[] = [];

function client(url: string, headers?: Record<string, string>): TestClient {
  const made = new TestClient(url, headers === undefined ? {} : { headers });
  clients.push(made);
  return made;
}

async function chat(sessionId: string, userId: string, query = '', name?: string): Promise<TestClient> {
  const jwt = await token({ userId, ...(name === undefined ? {} : { name }) });
  const made = client(started.url(`/ws/chat/${sessionId}?token=${jwt}${query}`));
  await made.nextOfType('welcome');
  return made;
}

async function status(sessionId: string, userId: string): Promise<TestClient> {
  const made = client(started.url(`/ws/status/${sessionId}?token=${await token({ userId })}`));
  await made.nextOfType('presence');
  return made;
}

function storedMessage(sessionId: string, seq: number): ChatMessage {
  return { type: 'message', id: randomUUID(), sessionId, seq, userId: randomUUID(), body: `old ${seq}`, metadata: {}, timestamp: new Date().toISOString() };
}

async function stopAndRestart(tuning: Partial<GatewayTuning>): Promise<void> {
  await started.gateway.stop();
  started = await startMemoryGateway(backends, { tuning });
}

beforeEach(async () => {
  backends = memoryBackends();
  started = await startMemoryGateway(backends, { env: { RATE_LIMIT_PER_SEC: '5', RATE_LIMIT_BURST: '10', MAX_FRAME_BYTES: '8192', MAX_MESSAGE_CHARS: '100' } });
});

afterEach(async () => {
  for (const made of clients.splice(0)) made.close();
  await started.gateway.stop();
});

describe('admission', () => {
  it('refuses a missing token with 4401 after the upgrade', async () => {
    const sessionId = await createSession(backends.store, [randomUUID()]);
    const refused = client(started.url(`/ws/chat/${sessionId}`));
    await refused.opened();
    expect((await refused.closed).code).toBe(4401);
  });

  it('refuses an expired token, a token signed with another key and an unsigned one with 4401', async () => {
    const userId = randomUUID();
    const sessionId = await createSession(backends.store, [userId]);
    const key = new TextEncoder().encode(TEST_SECRET);
    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setExpirationTime(Math.floor(Date.now() / 1000) - 10).sign(key);
    const foreign = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setExpirationTime('1h').sign(new TextEncoder().encode('x'.repeat(40)));
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none' })}.${encode({ sub: userId, exp: Math.floor(Date.now() / 1000) + 60 })}.`;
    for (const bad of [expired, foreign, unsigned]) {
      expect((await client(started.url(`/ws/chat/${sessionId}?token=${bad}`)).closed).code).toBe(4401);
    }
  });

  it('refuses a user who is not a member with 4403, on both routes', async () => {
    const sessionId = await createSession(backends.store, [randomUUID()]);
    const jwt = await token({ userId: randomUUID() });
    expect((await client(started.url(`/ws/chat/${sessionId}?token=${jwt}`)).closed).code).toBe(4403);
    expect((await client(started.url(`/ws/status/${sessionId}?token=${jwt}`)).closed).code).toBe(4403);
  });

  it('refuses a browser origin outside ALLOWED_ORIGINS with 4403 and accepts an allowed one or none', async () => {
    const userId = randomUUID();
    const sessionId = await createSession(backends.store, [userId]);
    const path = `/ws/chat/${sessionId}?token=${await token({ userId })}`;
    expect((await client(started.url(path), { origin: 'https://evil.example' }).closed).code).toBe(4403);
    await expect(client(started.url(path), { origin: 'https://chat.example' }).nextOfType('welcome')).resolves.toMatchObject({ userId });
    await expect(client(started.url(path)).nextOfType('welcome')).resolves.toMatchObject({ userId });
  });

  it('refuses an unknown session, a closed one and a malformed id with 4404', async () => {
    const userId = randomUUID();
    const jwt = await token({ userId });
    const closed = await createSession(backends.store, [userId]);
    await backends.store.closeSession(closed, new Date().toISOString());
    for (const sessionId of [randomUUID(), closed, 'not-a-uuid']) {
      expect((await client(started.url(`/ws/chat/${sessionId}?token=${jwt}`)).closed).code).toBe(4404);
    }
  });

  it('reads the token from an Authorization header', async () => {
    const userId = randomUUID();
    const sessionId = await createSession(backends.store, [userId]);
    const made = client(started.url(`/ws/chat/${sessionId}`), { authorization: `Bearer ${await token({ userId })}` });
    await expect(made.nextOfType('welcome')).resolves.toMatchObject({ sessionId, userId, seq: 0 });
  });

  it('lets an admin join a session it is not a member of', async () => {
    const sessionId = await createSession(backends.store, [randomUUID()]);
    const adminId = randomUUID();
    const made = client(started.url(`/ws/chat/${sessionId}?token=${await token({ userId: adminId, admin: true })}`));
    await expect(made.nextOfType('welcome')).resolves.toMatchObject({ userId: adminId });
  });
});

describe('chat frames', () => {
  it('acks a send and delivers the message to every member, the sender included', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const sessionId = await createSession(backends.store, [alice, bob]);
    const a = await chat(sessionId, alice, '', 'Alice');
    const b = await chat(sessionId, bob);
    a.send({ type: 'send', clientMsgId: 'c1', body: 'hello', metadata: { k: 1 } });
    const ack = await a.nextOfType('ack');
    expect(ack).toMatchObject({ clientMsgId: 'c1', seq: 1 });
    for (const receiver of [a, b]) {
      await expect(receiver.nextOfType('message')).resolves.toMatchObject({ id: ack['id'], seq: 1, body: 'hello', userId: alice, userName: 'Alice', metadata: { k: 1 }, clientMsgId: 'c1' });
    }
  });

  it('acks a repeated clientMsgId again with the first id and seq, creating no second message', async () => {
    const alice = randomUUID();
    const sessionId = await createSession(backends.store, [alice]);
    const a = await chat(sessionId, alice);
    a.send({ type: 'send', clientMsgId: 'same', body: 'once' });
    const first = await a.nextOfType('ack');
    a.send({ type: 'send', clientMsgId: 'same', body: 'once' });
    const second = await a.nextOfType('ack');
    expect(second).toEqual(first);
    expect(await backends.state.head(sessionId)).toBe(1);
  });

  it('answers ping with pong', async () => {
    const alice = randomUUID();
    const a = await chat(await createSession(backends.store, [alice]), alice);
    a.send({ type: 'ping' });
    await expect(a.nextOfType('pong')).resolves.toEqual({ type: 'pong' });
  });

  it('answers malformed and oversized frames with an error and keeps the connection open', async () => {
    const alice = randomUUID();
    const a = await chat(await createSession(backends.store, [alice]), alice);
    a.send('{not json');
    await expect(a.nextOfType('error')).resolves.toMatchObject({ code: 'invalid_frame' });
    a.send({ type: 'shout' });
    await expect(a.nextOfType('error')).resolves.toMatchObject({ code: 'invalid_frame' });
    a.send({ type: 'send', clientMsgId: 'big', body: 'x'.repeat(101) });
    await expect(a.nextOfType('error')).resolves.toMatchObject({ code: 'too_large', clientMsgId: 'big' });
    a.send({ type: 'send', clientMsgId: 'meta', body: 'x', metadata: { blob: 'y'.repeat(5000) } });
    await expect(a.nextOfType('error')).resolves.toMatchObject({ code: 'too_large', clientMsgId: 'meta' });
    a.send({ type: 'ping' });
    await expect(a.nextOfType('pong')).resolves.toEqual({ type: 'pong' });
  });

  it('closes with 1009 on a frame larger than MAX_FRAME_BYTES', async () => {
    const alice = randomUUID();
    const a = await chat(await createSession(backends.store, [alice]), alice);
    a.send({ type: 'send', clientMsgId: 'huge', body: 'z'.repeat(9000) });
    expect((await a.closed).code).toBe(1009);
  });

  it('refuses sends past the burst with rate_limited, then closes with 4429 when they keep coming', async () => {
    const alice = randomUUID();
    const sessionId = await createSession(backends.store, [alice]);
    const a = await chat(sessionId, alice);
    for (let i = 0; i < 40; i++) a.send({ type: 'send', clientMsgId: `r${i}`, body: 'spam' });
    const limited = await a.next((frame) => frame.type === 'error' && frame['code'] === 'rate_limited');
    expect(limited['clientMsgId']).toMatch(/^r\d+$/);
    expect((await a.closed).code).toBe(4429);
    // Every send accepted before the close (at least the burst of 10) got its ack before the close
    // frame: nothing was stored without the sender knowing.
    const acked = a.ofType('ack').map((frame) => frame['clientMsgId']);
    expect(acked.length).toBeGreaterThanOrEqual(10);
    expect(acked.length).toBeLessThanOrEqual(11);
    expect(acked).toEqual(expect.arrayContaining(Array.from({ length: 10 }, (_, i) => `r${i}`)));
    const stored = await backends.state.recent(sessionId, 0);
    expect(stored.map((message) => message.clientMsgId).sort()).toEqual([...acked].sort());
  });

  it('answers unavailable, never an ack, when the queue refuses the message', async () => {
    const alice = randomUUID();
    const a = await chat(await createSession(backends.store, [alice]), alice);
    backends.queue.publish = () => Promise.reject(new Error('queue down'));
    a.send({ type: 'send', clientMsgId: 'lost', body: 'hello' });
    await expect(a.nextOfType('error')).resolves.toMatchObject({ code: 'unavailable', clientMsgId: 'lost' });
    expect(a.ofType('ack')).toHaveLength(0);
  });
});

describe('ordering across replicas', () => {
  function published(sessionId: string, seq: number): string {
    return JSON.stringify({ ...storedMessage(sessionId, seq), body: `live ${seq}` });
  }

  it('delivers N before N+1 when another replica published them swapped', async () => {
    const alice = randomUUID();
    const sessionId = await createSession(backends.store, [alice]);
    const a = await chat(sessionId, alice);
    const otherReplica = backends.hub.bus();
    await otherReplica.publish(sessionId, published(sessionId, 2));
    await otherReplica.publish(sessionId, published(sessionId, 1));
    await a.take('message', 2);
    expect(a.ofType('message').map((m) => m['seq'])).toEqual([1, 2]);
  });

  it('fills a seq whose fan-out was lost from live state, keeping the order', async () => {
    const alice = randomUUID();
    const sessionId = await createSession(backends.store, [alice]);
    const a = await chat(sessionId, alice);
    await stopAndRestart({ gapFillMs: 30 });
    const b = await chat(sessionId, alice);
    // Seq 1 is committed to live state but its publish never reached the bus.
    const reservation = await backends.state.reserve({ sessionId, userId: alice, clientMsgId: 'lost', id: randomUUID(), timestamp: new Date().toISOString() });
    expect(reservation).toMatchObject({ status: 'reserved', seq: 1 });
    const lost = { ...storedMessage(sessionId, 1), userId: alice, clientMsgId: 'lost' };
    await backends.state.commit(lost);
    await backends.hub.bus().publish(sessionId, published(sessionId, 2));
    await b.take('message', 2);
    expect(b.ofType('message').map((m) => m['seq'])).toEqual([1, 2]);
    expect(b.ofType('message')[0]).toMatchObject({ id: lost.id });
    expect((await a.closed).code).toBe(1001);
  });
});

describe('catch-up with lastSeq', () => {
  it('sends every message after lastSeq from the store and live state, in order, then live ones', async () => {
    const alice = randomUUID();
    const sessionId = await createSession(backends.store, [alice]);
    // Seqs 1..5 exist only in the store (as after a Redis restart), 6..8 are sent live.
    await backends.store.insertMessages([1, 2, 3, 4, 5].map((seq) => storedMessage(sessionId, seq)));
    const writer = await chat(sessionId, alice);
    for (const n of [6, 7, 8]) {
      writer.send({ type: 'send', clientMsgId: `m${n}`, body: `live ${n}` });
      await writer.nextOfType('ack');
    }
    const reader = client(started.url(`/ws/chat/${sessionId}?token=${await token({ userId: alice })}&lastSeq=2`));
    await expect(reader.nextOfType('welcome')).resolves.toMatchObject({ seq: 8 });
    const caught = await reader.take('message', 6);
    expect(caught.map((m) => m['seq'])).toEqual([3, 4, 5, 6, 7, 8]);
    writer.send({ type: 'send', clientMsgId: 'm9', body: 'live 9' });
    await expect(reader.nextOfType('message')).resolves.toMatchObject({ seq: 9 });
  });

  it('sends nothing old without lastSeq', async () => {
    const alice = randomUUID();
    const sessionId = await createSession(backends.store, [alice]);
    await backends.store.insertMessages([1, 2].map((seq) => storedMessage(sessionId, seq)));
    const reader = await chat(sessionId, alice);
    reader.send({ type: 'send', clientMsgId: 'n', body: 'new' });
    await expect(reader.nextOfType('message')).resolves.toMatchObject({ seq: 3 });
    expect(reader.ofType('message')).toHaveLength(1);
  });
});

describe('status route and presence', () => {
  it('shows who is online, then join, typing and leave events', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const sessionId = await createSession(backends.store, [alice, bob]);
    await chat(sessionId, alice, '', 'Alice');
    const watcher = client(started.url(`/ws/status/${sessionId}?token=${await token({ userId: bob })}`));
    await expect(watcher.nextOfType('presence')).resolves.toEqual({ type: 'presence', online: [alice], names: { [alice]: 'Alice' } });
    const b1 = await chat(sessionId, bob);
    await expect(watcher.nextOfType('join')).resolves.toMatchObject({ userId: bob });
    const b2 = await chat(sessionId, bob);
    b2.send({ type: 'typing' });
    await expect(watcher.nextOfType('typing')).resolves.toMatchObject({ userId: bob });
    b1.close();
    await b1.closed;
    b2.close();
    await expect(watcher.nextOfType('leave')).resolves.toEqual({ type: 'leave', userId: bob });
    // Bob had two connections: one join and one leave.
    expect(watcher.ofType('join')).toHaveLength(1);
    expect(watcher.ofType('leave')).toHaveLength(1);
  });

  it('announces the leave of a user whose lease expired (a crashed replica)', async () => {
    const [alice, ghost] = [randomUUID(), randomUUID()];
    const sessionId = await createSession(backends.store, [alice, ghost]);
    const watcher = await status(sessionId, alice);
    expect((await backends.state.presenceJoinMember({ sessionId, userId: ghost, connectionId: randomUUID() }, 50, false)).joined).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await started.gateway.stop();
    const sweeping = await startMemoryGateway(backends, { tuning: { presenceSweepMs: 50 } });
    const watcher2 = client(sweeping.url(`/ws/status/${sessionId}?token=${await token({ userId: alice })}`));
    await expect(watcher2.nextOfType('leave')).resolves.toEqual({ type: 'leave', userId: ghost });
    expect(watcher.ofType('presence')).toHaveLength(1);
    await sweeping.gateway.stop();
  });
});

describe('session closed and shutdown', () => {
  it('tells every socket of a closed session, then closes it with 4404', async () => {
    const alice = randomUUID();
    const sessionId = await createSession(backends.store, [alice]);
    const a = await chat(sessionId, alice);
    const watcher = await status(sessionId, alice);
    await backends.hub.bus().publish(sessionId, '{"type":"session_closed"}');
    for (const made of [a, watcher]) {
      await expect(made.nextOfType('session_closed')).resolves.toEqual({ type: 'session_closed' });
      expect((await made.closed).code).toBe(4404);
    }
  });

  it('answers a send to a session closed meanwhile with not_found, then closes with 4404', async () => {
    const alice = randomUUID();
    const sessionId = await createSession(backends.store, [alice]);
    const a = await chat(sessionId, alice);
    // As the session-api does on DELETE, before its session_closed event reaches this replica.
    await backends.store.closeSession(sessionId, new Date().toISOString());
    await backends.state.remove(sessionId);
    a.send({ type: 'send', clientMsgId: 'late', body: 'too late' });
    await expect(a.nextOfType('error')).resolves.toMatchObject({ code: 'not_found', clientMsgId: 'late' });
    expect((await a.closed).code).toBe(4404);
    expect(a.ofType('ack')).toHaveLength(0);
  });

  it('closes every socket with 1001 on stop and reports not ready', async () => {
    const alice = randomUUID();
    const sessionId = await createSession(backends.store, [alice]);
    const a = await chat(sessionId, alice);
    const watcher = await status(sessionId, alice);
    await expect(fetch(started.http('/readyz')).then((res) => res.status)).resolves.toBe(200);
    const stopping = started.gateway.stop();
    expect((await a.closed).code).toBe(1001);
    expect((await watcher.closed).code).toBe(1001);
    await stopping;
    expect((await started.gateway.readiness.report()).ready).toBe(false);
    expect(await backends.state.presenceOnline(sessionId)).toEqual([]);
  });

  it('serves /healthz and answers other paths with 404', async () => {
    await expect(fetch(started.http('/healthz')).then((res) => res.json())).resolves.toEqual({ status: 'ok' });
    expect((await fetch(started.http('/nope'))).status).toBe(404);
  });
});
