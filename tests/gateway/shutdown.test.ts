import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TestClient } from '@chat/gateway/testing';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { Cluster } from './cluster.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);

describeReal('graceful shutdown of a gateway replica', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start(2);
  });

  afterAll(async () => {
    await cluster.dispose();
  });

  it('closes its sockets with 1001, leaves presence, and the client resumes on the other replica', async () => {
    const [alice, watcherId] = [randomUUID(), randomUUID()];
    const sessionId = await cluster.createSession([alice, watcherId]);
    const jwt = await cluster.token({ userId: alice });
    const leaving = new TestClient(cluster.replica(0).url(`/ws/chat/${sessionId}?token=${jwt}`));
    await leaving.nextOfType('welcome');
    const watcher = new TestClient(cluster.replica(1).url(`/ws/status/${sessionId}?token=${await cluster.token({ userId: watcherId })}`));
    await expect(watcher.nextOfType('presence')).resolves.toMatchObject({ online: [alice] });
    leaving.send({ type: 'send', clientMsgId: 'before', body: 'before restart' });
    const ack = await leaving.nextOfType('ack');

    await cluster.replica(0).stop();
    expect((await leaving.closed).code).toBe(1001);
    await expect(watcher.nextOfType('leave')).resolves.toEqual({ type: 'leave', userId: alice });
    expect((await cluster.replica(0).gateway.readiness.report()).ready).toBe(false);

    const resumed = new TestClient(cluster.replica(1).url(`/ws/chat/${sessionId}?token=${jwt}&lastSeq=0`));
    await expect(resumed.nextOfType('message')).resolves.toMatchObject({ id: ack['id'], seq: 1 });
    resumed.close();
    watcher.close();
  });
});
