import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TestClient, type Frame } from '@chat/gateway/testing';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_REDIS_URL } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { Cluster, type Replica } from './cluster.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);
const redisTarget = new URL(TEST_REDIS_URL);

describeReal('a gateway whose Redis goes away', () => {
  let cluster: Cluster;
  let proxy: TcpProxy;
  let replica: Replica;

  beforeAll(async () => {
    proxy = new TcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
    await proxy.start();
    cluster = await Cluster.start(0);
    replica = await cluster.addReplica('behind-proxy', { REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
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
      client.send({ type: 'send', clientMsgId, body: 'after the outage' });
      const answer = await client.next((frame) => (frame.type === 'ack' || frame.type === 'error') && frame['clientMsgId'] === clientMsgId);
      if (answer.type === 'ack' || Date.now() > deadline) return answer;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it('answers unavailable (never an ack) and reports not ready while Redis is away, and recovers by itself', async () => {
    const alice = randomUUID();
    const sessionId = await cluster.createSession([alice]);
    const client = new TestClient(replica.url(`/ws/chat/${sessionId}?token=${await cluster.token({ userId: alice })}`));
    await client.nextOfType('welcome');
    client.send({ type: 'send', clientMsgId: 'before', body: 'before the outage' });
    await expect(client.nextOfType('ack')).resolves.toMatchObject({ seq: 1 });
    expect(await readyStatus()).toBe(200);

    await proxy.cut({ stopListening: true });
    client.send({ type: 'send', clientMsgId: 'during', body: 'during the outage' });
    await expect(client.next((frame) => frame['clientMsgId'] === 'during')).resolves.toMatchObject({ type: 'error', code: 'unavailable' });
    expect(await readyStatus()).toBe(503);

    await proxy.start();
    await expect(sendUntilAcked(client, 'after')).resolves.toMatchObject({ type: 'ack', seq: 2 });
    expect(await readyStatus()).toBe(200);
    // The subscription came back with the connection: the message is delivered live too.
    await expect(client.next((frame) => frame.type === 'message' && frame['seq'] === 2, 10_000)).resolves.toMatchObject({ clientMsgId: 'after' });
    expect(client.ofType('ack').map((ack) => ack['clientMsgId'])).toEqual(['before', 'after']);
    client.close();
  });
});
