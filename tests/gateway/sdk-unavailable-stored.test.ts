import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ChatClient } from '@chat/client';
import { isSeqGap } from '@chat/protocol';
import { WebSocket } from 'ws';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_NATS_URL } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { Cluster, type Replica } from './cluster.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);
const natsTarget = new URL(TEST_NATS_URL);

describeReal('an SDK send answered unavailable although JetStream stored it (NATS paused)', () => {
  let cluster: Cluster;
  let proxy: TcpProxy;
  let replica: Replica;

  beforeAll(async () => {
    proxy = new TcpProxy({ host: natsTarget.hostname, port: Number(natsTarget.port || 4222) });
    await proxy.start();
    cluster = await Cluster.start(0);
    replica = await cluster.addReplica('behind-paused-nats', { NATS_URL: `nats://127.0.0.1:${proxy.port}` });
  });

  afterAll(async () => {
    // Cut first: a publish still held would keep the replica's queue from closing.
    await proxy.stop();
    await cluster.dispose();
  });

  it('settles with the id and seq JetStream stored, once, instead of staying unsettled or failing', async () => {
    const alice = randomUUID();
    const sessionId = await cluster.createSession([alice]);
    const client = new ChatClient({
      sessionId,
      token: await cluster.token({ userId: alice }),
      wsUrl: replica.url(''),
      apiUrl: replica.http(''),
      WebSocket,
      environment: null,
      status: false,
      resendAfterUnavailableMs: 200,
    });
    const errors: string[] = [];
    client.on('error', (frame) => errors.push(`${frame.code} ${frame.clientMsgId ?? ''}`));
    client.connect();
    try {
      await new Promise<void>((resolve) => client.once('welcome', () => resolve()));
      // NATS goes quiet without a close: the publish waits on the wire, times out, and so does its seal.
      proxy.hold();
      let outcome: 'pending' | 'acked' | 'failed' = 'pending';
      const sent = client.send('stored although refused');
      sent.then(() => (outcome = 'acked'), () => (outcome = 'failed'));
      const clientMsgId = client.store.getState().outgoing[0]?.clientMsgId ?? '';
      const deadline = Date.now() + 30_000;
      while (!errors.includes(`unavailable ${clientMsgId}`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(errors).toContain(`unavailable ${clientMsgId}`);
      // Told unavailable, the SDK neither fails the send nor forgets it: its outcome is not known yet.
      expect(outcome).toBe('pending');
      expect(client.store.getState().outgoing).toMatchObject([{ clientMsgId, status: 'pending' }]);

      // NATS resumes: what waited on the wire lands (the message first; its seal is a duplicate of its key).
      proxy.release();
      const ack = await sent;
      const queued = await cluster.queued(sessionId);
      const mine = queued.filter((m) => m.clientMsgId === clientMsgId);
      expect(mine).toHaveLength(1);
      expect(ack).toMatchObject({ clientMsgId, id: mine[0]?.id, seq: mine[0]?.seq });
      expect(queued.filter((m) => isSeqGap(m))).toEqual([]);
      await cluster.persistedUpTo(sessionId, ack.seq);
      const stored = await cluster.store.history(sessionId, { limit: 10 });
      expect(stored.messages.map((m) => [m.id, m.seq, m.clientMsgId])).toEqual([[ack.id, ack.seq, clientMsgId]]);
      expect(client.store.getState().messages.map((m) => m.id)).toEqual([ack.id]);
    } finally {
      client.close();
    }
  }, 90_000);
});
