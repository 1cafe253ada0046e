import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TestClient } from '@chat/gateway/testing';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_REDIS_URL } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { Cluster, type Replica } from './cluster.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);
const redisTarget = new URL(TEST_REDIS_URL);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeReal('a gateway whose Redis is slow while a client joins', () => {
  let cluster: Cluster;
  let proxy: TcpProxy;
  let replica: Replica;

  beforeAll(async () => {
    proxy = new TcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
    await proxy.start();
    cluster = await Cluster.start(0);
    replica = await cluster.addReplica('behind-slow-redis', { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, WELCOME_TIMEOUT_MS: '5000' });
  });

  afterAll(async () => {
    await cluster.dispose();
    await proxy.stop();
  });

  /** A session with live state already loaded, so joining it reads membership and head from Redis only. */
  async function liveSession(): Promise<{ sessionId: string; url: () => Promise<string> }> {
    const alice = randomUUID();
    const sessionId = await cluster.createSession([alice]);
    const url = async () => replica.url(`/ws/chat/${sessionId}?token=${await cluster.token({ userId: alice })}`);
    const first = new TestClient(await url());
    await first.nextOfType('welcome');
    first.close();
    await first.closed;
    return { sessionId, url };
  }

  it('welcomes a client whose membership read timed out once, instead of refusing it with 1013', async () => {
    const { url } = await liveSession();
    const joining = await url();
    // Held past the 1 s command timeout: the join's first Redis command times out, the next is answered.
    proxy.hold();
    const client = new TestClient(joining);
    await sleep(1_500);
    proxy.release();
    await expect(client.nextOfType('welcome', 5_000)).resolves.toMatchObject({ type: 'welcome' });
    client.send({ type: 'send', clientMsgId: 'after-slow-join', body: 'joined through a slow Redis' });
    await expect(client.nextOfType('ack', 10_000)).resolves.toMatchObject({ clientMsgId: 'after-slow-join' });
    client.close();
  });

  it('still refuses with 1013, within the welcome budget, a client whose state cannot be read at all', async () => {
    const { url } = await liveSession();
    const joining = await url();
    proxy.hold();
    const started = Date.now();
    const client = new TestClient(joining);
    try {
      const closed = await client.closed;
      expect(closed.code).toBe(1013);
      expect(client.ofType('welcome')).toEqual([]);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      proxy.release();
    }
  });
});
