import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TestClient, type Frame } from '@chat/gateway/testing';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_NATS_URL, TEST_REDIS_URL } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { Cluster, type Replica } from './cluster.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);
const redisTarget = new URL(TEST_REDIS_URL);
const natsTarget = new URL(TEST_NATS_URL);

const dependencies = [
  // Without Redis membership cannot be checked, so new connections are told to come back later (1013).
  { name: 'Redis', target: redisTarget, defaultPort: 6379, variable: 'REDIS_URL', scheme: 'redis', newConnectionClose: 1013 },
  { name: 'NATS', target: natsTarget, defaultPort: 4222, variable: 'NATS_URL', scheme: 'nats', newConnectionClose: undefined },
] as const;

describeReal.each(dependencies)('a gateway whose $name goes away', ({ target, defaultPort, variable, scheme, newConnectionClose }) => {
  let cluster: Cluster;
  let proxy: TcpProxy;
  let replica: Replica;

  beforeAll(async () => {
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || defaultPort) });
    await proxy.start();
    cluster = await Cluster.start(0);
    replica = await cluster.addReplica(`behind-${scheme}-proxy`, { [variable]: `${scheme}://127.0.0.1:${proxy.port}` });
  });

  afterAll(async () => {
    await cluster.dispose();
    await proxy.stop();
  });

  const readyStatus = async () => (await fetch(replica.http('/readyz'))).status;

  /** Sends until the answer is an ack (or the time is up), as a client retrying with one clientMsgId would. */
  async function sendUntilAcked(client: TestClient, clientMsgId: string, timeoutMs = 15_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      client.send({ type: 'send', clientMsgId, body: 'during the outage' });
      // Longer than the queue's publish timeout, so every attempt gets its answer.
      const answer = await client.next((frame) => (frame.type === 'ack' || frame.type === 'error') && frame['clientMsgId'] === clientMsgId, 10_000);
      if (answer.type === 'ack' || Date.now() > deadline) return answer;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it('answers unavailable (never an ack) and reports not ready while it is away, and recovers by itself', async () => {
    const alice = randomUUID();
    const sessionId = await cluster.createSession([alice]);
    const client = new TestClient(replica.url(`/ws/chat/${sessionId}?token=${await cluster.token({ userId: alice })}`));
    await client.nextOfType('welcome');
    client.send({ type: 'send', clientMsgId: 'before', body: 'before the outage' });
    await expect(client.nextOfType('ack')).resolves.toMatchObject({ seq: 1 });
    expect(await readyStatus()).toBe(200);

    await proxy.cut({ stopListening: true });
    client.send({ type: 'send', clientMsgId: 'during', body: 'during the outage' });
    await expect(client.next((frame) => frame['clientMsgId'] === 'during', 10_000)).resolves.toMatchObject({ type: 'error', code: 'unavailable' });
    expect(await readyStatus()).toBe(503);
    if (newConnectionClose !== undefined) {
      const refused = new TestClient(replica.url(`/ws/chat/${sessionId}?token=${await cluster.token({ userId: alice })}`));
      expect((await refused.closed).code).toBe(newConnectionClose);
    }

    await proxy.start();
    // The client sends the refused message again, with the same clientMsgId, until it is acked.
    // Its first seq (2) is filled by the resend itself, or sealed with a gap record first, and then the resend takes 3.
    const acked = await sendUntilAcked(client, 'during');
    expect(acked).toMatchObject({ type: 'ack' });
    const seq = Number(acked['seq']);
    expect([2, 3]).toContain(seq);
    expect(await readyStatus()).toBe(200);
    await expect(client.next((frame) => frame.type === 'message' && frame['seq'] === seq, 10_000)).resolves.toMatchObject({ clientMsgId: 'during' });
    expect(client.ofType('ack').map((ack) => ack['clientMsgId'])).toEqual(['before', 'during']);
    expect(client.ofType('message').map((message) => message['seq'])).toEqual(seq === 2 ? [1, 2] : [1, 2, 3]);
    client.close();
  });
});
