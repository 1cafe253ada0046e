import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { connectRedis } from '@chat/redis';
import { TestClient, type Frame } from '@chat/gateway/testing';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_REDIS_URL } from '../support/services.ts';
import { Cluster } from './cluster.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);

/**
 * A resend over WebSocket after Redis lost the session's live state (deleted keys play a Redis
 * restarted without persistence) is answered with the first id and seq and creates nothing, whether
 * the first copy is in PostgreSQL already or still only in JetStream.
 */
for (const persisted of [true, false]) {
  describeReal(`a resend after Redis lost the session, the first copy ${persisted ? 'in PostgreSQL' : 'only in JetStream'}`, () => {
    let cluster: Cluster;
    const redis = connectRedis({ url: TEST_REDIS_URL });
    const clients: TestClient[] = [];

    beforeAll(async () => {
      cluster = await Cluster.start(1, { persister: persisted, env: { RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' } });
    });

    afterEach(() => {
      for (const made of clients.splice(0)) made.close();
    });

    afterAll(async () => {
      await cluster.dispose();
      await redis.quit();
    });

    async function chat(sessionId: string, userId: string, query = ''): Promise<TestClient> {
      const made = new TestClient(cluster.replica(0).url(`/ws/chat/${sessionId}?token=${await cluster.token({ userId })}${query}`));
      clients.push(made);
      await made.nextOfType('welcome');
      return made;
    }

    async function dropLiveState(sessionId: string): Promise<void> {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `sessions:{${sessionId}}:*`, 'COUNT', 1000);
        keys.push(...found);
        cursor = next;
      } while (cursor !== '0');
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
    }

    const ack = (client: TestClient, clientMsgId: string) => client.next((frame: Frame) => frame.type === 'ack' && frame['clientMsgId'] === clientMsgId);
    const pick = (frame: Frame) => ({ id: frame['id'], seq: frame['seq'] });

    it('answers with the first id and seq, and the next message takes the next seq', async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      const sessionId = await cluster.createSession([alice, bob]);
      const sender = await chat(sessionId, alice);
      const firsts = [];
      for (const clientMsgId of ['c1', 'c2', 'c3']) {
        sender.send({ type: 'send', clientMsgId, body: `first ${clientMsgId}` });
        firsts.push(pick(await ack(sender, clientMsgId)));
      }
      expect(firsts.map((first) => first.seq)).toEqual([1, 2, 3]);
      if (persisted) await cluster.persistedUpTo(sessionId, 3);
      sender.close();

      await dropLiveState(sessionId);
      const watcher = await chat(sessionId, bob);
      const again = await chat(sessionId, alice);
      again.send({ type: 'send', clientMsgId: 'c2', body: 'resent c2' });
      expect(pick(await ack(again, 'c2'))).toEqual(firsts[1]);
      // Sent twice more, once all at once, it is still the first message.
      again.send({ type: 'send', clientMsgId: 'c1', body: 'resent c1' });
      again.send({ type: 'send', clientMsgId: 'c1', body: 'resent c1' });
      expect(pick(await ack(again, 'c1'))).toEqual(firsts[0]);
      expect(pick(await ack(again, 'c1'))).toEqual(firsts[0]);

      again.send({ type: 'send', clientMsgId: 'c4', body: 'new' });
      expect(await ack(again, 'c4')).toMatchObject({ seq: 4 });
      // The watcher saw only the new message live: no resend was fanned out again.
      expect(await watcher.nextOfType('message')).toMatchObject({ seq: 4, clientMsgId: 'c4' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(watcher.ofType('message')).toHaveLength(1);

      const queued = await cluster.queued(sessionId);
      expect(queued.map((message) => [message.seq, message.clientMsgId])).toEqual([
        [1, 'c1'],
        [2, 'c2'],
        [3, 'c3'],
        [4, 'c4'],
      ]);
      if (persisted) {
        await cluster.persistedUpTo(sessionId, 4);
        const stored = await cluster.store.history(sessionId, { limit: 10 });
        expect(stored.messages.map((message) => message.id)).toEqual([...firsts.map((first) => first.id), queued[3]?.id]);
      }
    });

    it('catches up a reader after the loss with every seq once', async () => {
      const alice = randomUUID();
      const sessionId = await cluster.createSession([alice]);
      const sender = await chat(sessionId, alice);
      sender.send({ type: 'send', clientMsgId: 'x', body: 'x' });
      await ack(sender, 'x');
      if (persisted) await cluster.persistedUpTo(sessionId, 1);
      await dropLiveState(sessionId);
      sender.send({ type: 'send', clientMsgId: 'x', body: 'x again' });
      expect(await ack(sender, 'x')).toMatchObject({ seq: 1 });
      sender.send({ type: 'send', clientMsgId: 'y', body: 'y' });
      expect(await ack(sender, 'y')).toMatchObject({ seq: 2 });
      const reader = await chat(sessionId, alice, '&lastSeq=0');
      const caught = await reader.take('message', 2);
      expect(caught.map((frame) => [frame['seq'], frame['clientMsgId']])).toEqual([
        [1, 'x'],
        [2, 'y'],
      ]);
    });
  });
}
