import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Frame, TestClient } from '@chat/gateway/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { OwnNatsCluster } from '../support/own-nats-cluster.ts';
import { describeWithServices, POSTGRES, REDIS } from '../support/services.ts';
import { startStack } from '../support/stack.ts';
import { Harness, range, sleep } from './harness.ts';

// The short form CI runs: the services backend on a three-server NATS cluster of this suite's own
// (ports 29500-29502, routes 29510-29512, monitoring 29520-29522: below the OS's ephemeral range) with the stream at R3, then the
// server that leads the stream killed under traffic.
const describeReal = await describeWithServices(POSTGRES, REDIS);

type Answer = { kind: 'ack'; id: string; seq: number; at: number } | { kind: 'error'; code: string; at: number };

function answerTo(client: TestClient, clientMsgId: string): Promise<Answer> {
  client.send({ type: 'send', clientMsgId, body: `says ${clientMsgId}` });
  return client
    .next((frame) => (frame.type === 'ack' || frame.type === 'error') && frame['clientMsgId'] === clientMsgId, 20_000)
    .then((frame: Frame) => (frame.type === 'ack' ? { kind: 'ack', id: String(frame['id']), seq: Number(frame['seq']), at: Date.now() } : { kind: 'error', code: String(frame['code']), at: Date.now() }));
}

describeReal('the services backend on a NATS cluster (three servers, stream at R3)', () => {
  const cluster = new OwnNatsCluster(29500);
  let h: Harness;

  beforeAll(async () => {
    try {
      await cluster.start();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    h = new Harness(await startStack('services', { env: { NATS_URL: cluster.url, NATS_STREAM_REPLICAS: '3', RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' } }));
  }, 60_000);

  afterEach(() => {
    h.closeAll();
  });

  afterAll(async () => {
    // The servers go whatever happened to the stack: they hold this suite's ports.
    try {
      await h.stack.stop();
    } finally {
      await cluster.stop();
    }
  }, 30_000);

  it('creates the stream with three replicas on three servers, acks with gapless seqs and persists', async () => {
    const nc = await connect({ servers: cluster.url.split(',') });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(h.stack.config.queue.stream);
      expect(info.config.num_replicas).toBe(3);
      const servers = [info.cluster?.leader, ...(info.cluster?.replicas ?? []).map((replica) => replica.name)];
      expect(new Set(servers)).toEqual(new Set(cluster.nodes.map((node) => node.name)));
    } finally {
      await nc.close();
    }

    const [alice, bob] = [randomUUID(), randomUUID()];
    const sessionId = await h.createSession([alice, bob]);
    const sender = await h.chat(0, sessionId, alice);
    const listener = await h.chat(1, sessionId, bob);
    const acks: Answer[] = [];
    for (let i = 1; i <= 8; i++) acks.push(await answerTo(sender, `m-${String(i)}`));
    expect(acks.map((answer) => (answer.kind === 'ack' ? answer.seq : answer.code))).toEqual(range(1, 8));
    expect(await answerTo(sender, 'm-3')).toMatchObject({ kind: 'ack', seq: 3 });
    await listener.take('message', 8);
    expect((await h.persisted(sessionId, 8)).map((row) => row.seq)).toEqual(range(1, 8));
  }, 30_000);

  it('when the server leading the stream is killed during traffic: one answer per send, no acked message lost or doubled, the persister keeps draining', async () => {
    const stream = h.stack.config.queue.stream;
    const leader = await cluster.streamLeader(stream);
    if (!leader) throw new Error('the stream has no leader');
    const metaLeader = await cluster.waitForMetaLeader();

    // Two senders, one per gateway, each on its own session, sending one message after another.
    const senders = await Promise.all(
      [0, 1].map(async (replica) => {
        const userId = randomUUID();
        const sessionId = await h.createSession([userId]);
        return { sessionId, client: await h.chat(replica, sessionId, userId), answers: new Map<string, Answer>() };
      }),
    );
    let killedAt = Number.POSITIVE_INFINITY;
    const ackedAfterKill = (sender: (typeof senders)[number]) => [...sender.answers.values()].filter((answer) => answer.kind === 'ack' && answer.at > killedAt).length;
    const deadline = Date.now() + 45_000;
    const traffic = senders.map(async (sender) => {
      for (let n = 1; ackedAfterKill(sender) < 10; n++) {
        if (Date.now() > deadline) throw new Error(`no recovery on ${sender.sessionId}: ${JSON.stringify([...sender.answers])}`);
        const clientMsgId = `m-${String(n)}`;
        const answer = await answerTo(sender.client, clientMsgId);
        sender.answers.set(clientMsgId, answer);
        if (answer.kind === 'error') await sleep(100);
      }
    });
    while (senders.some((sender) => sender.answers.size < 5)) await sleep(20);
    killedAt = Date.now();
    await cluster.kill(leader.name);
    let newLeaderAfterMs: number | undefined;
    for (;;) {
      const now = await cluster.streamLeader(stream);
      if (now) {
        newLeaderAfterMs = Date.now() - killedAt;
        break;
      }
      if (Date.now() > deadline) throw new Error('no new stream leader');
      await sleep(50);
    }
    await Promise.all(traffic);

    const refused = senders.flatMap((sender) => [...sender.answers.values()].filter((answer) => answer.kind === 'error'));
    // The window: from the kill until each sender has an ack again after its last refusal.
    const backAfter = Math.max(
      ...senders.map((sender) => {
        const answers = [...sender.answers.values()];
        const lastRefusal = Math.max(killedAt, ...answers.filter((answer) => answer.kind === 'error').map((answer) => answer.at));
        return Math.min(...answers.filter((answer) => answer.kind === 'ack' && answer.at > lastRefusal).map((answer) => answer.at)) - killedAt;
      }),
    );
    // The figures docs/scaling.md quotes.
    console.log(
      `NATS stream leader ${leader.name} killed (${metaLeader === leader.name ? 'also' : 'not'} the meta leader): new stream leader seen after ${String(newLeaderAfterMs)} ms; ` +
        `${String(refused.length)} sends refused unavailable; acks for good ${String(backAfter)} ms after the kill`,
    );

    await sleep(500);
    for (const sender of senders) {
      // Each send got one answer: ack, or unavailable while the stream had no leader.
      for (const clientMsgId of sender.answers.keys()) {
        const frames = [...sender.client.ofType('ack'), ...sender.client.ofType('error')].filter((frame) => frame['clientMsgId'] === clientMsgId);
        expect(frames).toHaveLength(1);
      }
      for (const answer of sender.answers.values()) if (answer.kind === 'error') expect(answer.code).toBe('unavailable');

      // As a client would: send again what was refused, with the same clientMsgId.
      for (const [clientMsgId, answer] of sender.answers) if (answer.kind === 'error') sender.answers.set(clientMsgId, await answerTo(sender.client, clientMsgId));
      const acked = [...sender.answers].flatMap(([clientMsgId, answer]) => (answer.kind === 'ack' ? [{ clientMsgId, ...answer }] : []));
      expect(acked).toHaveLength(sender.answers.size);
      expect(new Set(acked.map((entry) => entry.seq)).size).toBe(acked.length);

      // In PostgreSQL exactly once each, with the acked seq, including everything sent after the kill.
      const rows = await h.persistedIds(sender.sessionId, acked.map((entry) => entry.id), 30_000);
      expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
      expect(new Set(rows.map((row) => row.seq)).size).toBe(rows.length);
      for (const entry of acked) expect(rows.filter((row) => row.id === entry.id).map((row) => row.seq)).toEqual([entry.seq]);
    }
  }, 90_000);
});
