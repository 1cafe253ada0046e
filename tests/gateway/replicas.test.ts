import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TestClient, type Frame } from '@chat/gateway/testing';
import { createDatabase } from '@chat/db';
import { sql } from 'kysely';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_DATABASE_URL, TEST_NATS_URL } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { Cluster, type Replica } from './cluster.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);

describeReal('two gateway replicas over Redis, JetStream and PostgreSQL', () => {
  let cluster: Cluster;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    // A short recent list, so a catch-up of more than a few messages must read PostgreSQL.
    cluster = await Cluster.start(2, { env: { RECENT_MESSAGES: '5', RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' } });
  });

  afterAll(async () => {
    for (const made of clients) made.close();
    await cluster.dispose();
  });

  function open(replica: Replica, path: string): TestClient {
    const made = new TestClient(replica.url(path));
    clients.push(made);
    return made;
  }

  async function chat(replica: Replica, sessionId: string, userId: string, query = ''): Promise<TestClient> {
    const made = open(replica, `/ws/chat/${sessionId}?token=${await cluster.token({ userId })}${query}`);
    await made.nextOfType('welcome');
    return made;
  }

  const seqs = (frames: Frame[]) => frames.map((frame) => frame['seq']);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('delivers messages sent on both replicas to every member on either, once each and in seq order', async () => {
    const users = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const sessionId = await cluster.createSession(users);
    const a = cluster.replica(0);
    const b = cluster.replica(1);
    const receivers = [await chat(a, sessionId, users[0]!), await chat(a, sessionId, users[1]!), await chat(b, sessionId, users[2]!), await chat(b, sessionId, users[3]!)];
    const [senderA, , senderB] = receivers;
    for (let i = 0; i < 40; i++) {
      senderA!.send({ type: 'send', clientMsgId: `a${i}`, body: `from A ${i}` });
      senderB!.send({ type: 'send', clientMsgId: `b${i}`, body: `from B ${i}` });
    }
    const acks = [...(await senderA!.take('ack', 40)), ...(await senderB!.take('ack', 40))];
    expect(seqs(acks).sort((x, y) => Number(x) - Number(y))).toEqual(range(1, 80));
    for (const receiver of receivers) {
      await receiver.take('message', 80);
      expect(seqs(receiver.ofType('message'))).toEqual(range(1, 80));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const receiver of receivers) expect(receiver.ofType('message')).toHaveLength(80);
  });

  it('acks only once the message is in JetStream, and the message then reaches PostgreSQL', async () => {
    // This replica reaches NATS through a pass-through the test can hold, so JetStream's answer can be kept back.
    const nats = new URL(TEST_NATS_URL);
    const proxy = new TcpProxy({ host: nats.hostname, port: Number(nats.port || 4222) });
    await proxy.start();
    const replica = await cluster.addReplica(`behind-held-nats-${randomUUID().slice(0, 8)}`, { NATS_URL: `nats://127.0.0.1:${proxy.port}` });
    try {
      const alice = randomUUID();
      const sessionId = await cluster.createSession([alice]);
      const client = await chat(replica, sessionId, alice);
      proxy.hold();
      client.send({ type: 'send', clientMsgId: 'durable', body: 'keep me' });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      // JetStream has not got it, so the sender must not have an ack either.
      expect(await cluster.queuedSeq(sessionId)).toBe(0);
      expect(client.ofType('ack')).toEqual([]);
      proxy.release();
      const ack = await client.nextOfType('ack');
      expect(ack).toMatchObject({ clientMsgId: 'durable', seq: 1 });
      expect(await cluster.queuedSeq(sessionId)).toBe(1);
      await cluster.persistedUpTo(sessionId, 1);
      const page = await cluster.store.history(sessionId, { limit: 10 });
      expect(page.messages).toEqual([expect.objectContaining({ id: ack['id'], seq: 1, body: 'keep me' })]);
      client.send({ type: 'send', clientMsgId: 'durable', body: 'keep me' });
      await expect(client.nextOfType('ack')).resolves.toEqual(ack);
    } finally {
      // Cut first: a publish still held would keep the replica's queue from closing.
      await proxy.stop();
      await replica.stop();
    }
  });

  it('resumes with lastSeq on the other replica with no gap and no duplicate, reading old ones from PostgreSQL', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const sessionId = await cluster.createSession([alice, bob]);
    const sender = await chat(cluster.replica(0), sessionId, alice);
    const reader = await chat(cluster.replica(0), sessionId, bob);
    for (let i = 1; i <= 3; i++) sender.send({ type: 'send', clientMsgId: `early${i}`, body: `early ${i}` });
    await reader.take('message', 3);
    reader.close();
    await reader.closed;
    for (let i = 1; i <= 20; i++) sender.send({ type: 'send', clientMsgId: `missed${i}`, body: `missed ${i}` });
    await sender.take('ack', 23);
    // Seqs 4..18 have left the five-message recent list. JetStream still holds them too, so the
    // rows in PostgreSQL are marked: only a read of PostgreSQL hands out the marked bodies.
    await cluster.persistedUpTo(sessionId, 23);
    const db = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
    try {
      await sql`update chat_messages set message = message || ' (stored)' where session_id = ${sessionId} and seq between 4 and 18`.execute(db);
    } finally {
      await db.destroy();
    }
    const resumed = open(cluster.replica(1), `/ws/chat/${sessionId}?token=${await cluster.token({ userId: bob })}&lastSeq=3`);
    await expect(resumed.nextOfType('welcome')).resolves.toMatchObject({ seq: 23 });
    await resumed.take('message', 20);
    sender.send({ type: 'send', clientMsgId: 'after', body: 'live again' });
    await resumed.nextOfType('message');
    expect(seqs(resumed.ofType('message'))).toEqual(range(4, 24));
    const fromStore = resumed.ofType('message').filter((frame) => Number(frame['seq']) <= 18);
    expect(fromStore.map((frame) => frame['body'])).toEqual(range(1, 15).map((i) => `missed ${i} (stored)`));
  });

  it('acks a send repeated on the other replica after a reconnect with the first id and seq', async () => {
    const alice = randomUUID();
    const sessionId = await cluster.createSession([alice]);
    const first = await chat(cluster.replica(0), sessionId, alice);
    first.send({ type: 'send', clientMsgId: 'retry-me', body: 'once only' });
    const ack = await first.nextOfType('ack');
    first.close();
    const again = await chat(cluster.replica(1), sessionId, alice);
    again.send({ type: 'send', clientMsgId: 'retry-me', body: 'once only' });
    await expect(again.nextOfType('ack')).resolves.toEqual(ack);
    again.send({ type: 'send', clientMsgId: 'next', body: 'a new one' });
    await expect(again.nextOfType('ack')).resolves.toMatchObject({ seq: 2 });
    await cluster.persistedUpTo(sessionId, 2);
    expect((await cluster.store.history(sessionId, { limit: 10 })).messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('shows presence across replicas: join when the first connection opens anywhere, leave when the last closes', async () => {
    const [alice, watcherId] = [randomUUID(), randomUUID()];
    const sessionId = await cluster.createSession([alice, watcherId]);
    const watcher = open(cluster.replica(1), `/ws/status/${sessionId}?token=${await cluster.token({ userId: watcherId })}`);
    await expect(watcher.nextOfType('presence')).resolves.toMatchObject({ online: [] });
    const first = await chat(cluster.replica(0), sessionId, alice);
    await expect(watcher.nextOfType('join')).resolves.toMatchObject({ userId: alice });
    const second = await chat(cluster.replica(1), sessionId, alice);
    first.close();
    await first.closed;
    second.send({ type: 'typing' });
    await expect(watcher.nextOfType('typing')).resolves.toMatchObject({ userId: alice });
    expect(watcher.ofType('leave')).toHaveLength(0);
    second.close();
    await expect(watcher.nextOfType('leave')).resolves.toEqual({ type: 'leave', userId: alice });
    expect(watcher.ofType('join')).toHaveLength(1);
  });
});
