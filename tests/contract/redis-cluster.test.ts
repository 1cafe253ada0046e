import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { hashSlot, sessionKeys } from '@chat/redis';
import type { Frame, TestClient } from '@chat/gateway/testing';
import { OwnRedisCluster } from '../support/own-redis-cluster.ts';
import { describeWithServices, NATS, POSTGRES } from '../support/services.ts';
import { startStack } from '../support/stack.ts';
import { Harness, range, sleep } from './harness.ts';

// The short form CI runs: the chat contract's core over a 3-master, 3-replica Redis Cluster of
// this suite's own (ports 29121-29126, buses 30121-30126), then a master hung and a master killed under traffic.
const describeReal = await describeWithServices(POSTGRES, NATS);

type Answer = { kind: 'ack'; id: string; seq: number } | { kind: 'error'; code: string };

function answerTo(client: TestClient, clientMsgId: string, body = `says ${clientMsgId}`): Promise<Answer> {
  client.send({ type: 'send', clientMsgId, body });
  return client
    .next((frame) => (frame.type === 'ack' || frame.type === 'error') && frame['clientMsgId'] === clientMsgId, 20_000)
    .then((frame: Frame) => (frame.type === 'ack' ? { kind: 'ack', id: String(frame['id']), seq: Number(frame['seq']) } : { kind: 'error', code: String(frame['code']) }));
}

describeReal('the chat contract on Redis Cluster (REDIS_MODE=cluster)', () => {
  // A short node timeout: a killed master's replica takes over within about two seconds.
  const cluster = new OwnRedisCluster(29121, { replicas: 1, nodeTimeoutMs: 2_000 });
  let h: Harness;

  beforeAll(async () => {
    await cluster.start();
    h = new Harness(await startStack('services', { env: { REDIS_MODE: 'cluster', REDIS_URL: cluster.url, RECENT_MESSAGES: '5', RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' } }));
  }, 90_000);

  afterEach(() => {
    h.closeAll();
  });

  afterAll(async () => {
    await h.stack.stop();
    await cluster.stop();
  }, 30_000);

  async function readiness(replica: number): Promise<{ status: number; body: { ready: boolean; checks: Record<string, { ok: boolean; error?: string }> } }> {
    const response = await fetch(`${h.stack.gatewayUrls[replica]}/readyz`);
    return { status: response.status, body: (await response.json()) as { ready: boolean; checks: Record<string, { ok: boolean; error?: string }> } };
  }

  async function healthz(replica: number): Promise<number> {
    const response = await fetch(`${h.stack.gatewayUrls[replica]}/healthz`);
    await response.arrayBuffer();
    return response.status;
  }

  async function until(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within ${String(timeoutMs)} ms`);
      await sleep(100);
    }
  }

  /** A new session and the port of the master its keys live on. */
  async function sessionOn(members: string[]): Promise<{ sessionId: string; master: number }> {
    const sessionId = await h.createSession(members);
    return { sessionId, master: await cluster.masterOf(hashSlot(sessionKeys(sessionId).metadata)) };
  }

  it('spreads sessions over every master, acks with gapless seqs, fans out across replicas, de-duplicates and resumes', async () => {
    const masters = new Set<number>();
    for (let i = 0; i < 12; i++) masters.add((await sessionOn([randomUUID()])).master);
    expect(masters.size).toBe(3);

    const [alice, bob] = [randomUUID(), randomUUID()];
    const { sessionId } = await sessionOn([alice, bob]);
    const sender = await h.chat(0, sessionId, alice);
    const listener = await h.chat(1, sessionId, bob);
    const acks: Answer[] = [];
    for (let i = 1; i <= 8; i++) acks.push(await answerTo(sender, `m-${String(i)}`));
    expect(acks.map((answer) => (answer.kind === 'ack' ? answer.seq : answer.code))).toEqual(range(1, 8));
    expect(await answerTo(sender, 'm-3')).toEqual(acks[2]);
    await listener.take('message', 8);
    expect(listener.ofType('message').map((frame) => frame['seq'])).toEqual(range(1, 8));
    // RECENT_MESSAGES is 5: a resume from seq 1 reads the store as well as the recent list.
    const resumed = await h.chat(1, sessionId, bob, { lastSeq: 1 });
    await resumed.take('message', 7);
    expect(resumed.ofType('message').map((frame) => frame['seq'])).toEqual(range(2, 8));
    expect((await h.persisted(sessionId, 8)).map((row) => row.seq)).toEqual(range(1, 8));
  }, 60_000);

  it('turns readiness false while a resubscribe hangs on one master though liveness stays green, and delivers again once it answers', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const { sessionId, master } = await sessionOn([alice, bob]);
    const sender = await h.chat(0, sessionId, alice);
    const listener = await h.chat(1, sessionId, bob);
    await expect(answerTo(sender, 'before')).resolves.toMatchObject({ kind: 'ack', seq: 1 });
    await listener.next((frame) => frame.type === 'message' && frame['seq'] === 1);
    expect((await readiness(1)).status).toBe(200);

    // The subscriber connections drop and the master then answers nothing: the reconnect and its
    // SSUBSCRIBE hang (the kernel still accepts the connection), while PING to the other masters works.
    await cluster.dropSubscribers(master);
    cluster.pause(master);
    try {
      await until('replica 1 to report not ready', async () => (await readiness(1)).status === 503, 15_000);
      const report = await readiness(1);
      expect(report.body.ready).toBe(false);
      expect(report.body.checks['bus']).toMatchObject({ ok: false });
      expect(await healthz(1)).toBe(200);
    } finally {
      cluster.resume(master);
    }
    await cluster.waitUntilHealthy();
    await until('replica 1 to be ready again', async () => (await readiness(1)).status === 200, 30_000);
    // The session's subscription came back by itself: a new message reaches the listener live.
    let seq = -1;
    await until(
      'an ack after the hang',
      async () => {
        const answer = await answerTo(sender, `after-${randomUUID()}`);
        if (answer.kind === 'ack') seq = answer.seq;
        return answer.kind === 'ack';
      },
      20_000,
    );
    await listener.next((frame) => frame.type === 'message' && frame['seq'] === seq, 10_000);
  }, 90_000);

  it('when the master of a session is killed during traffic: every send is acked or refused unavailable, never both; no acked message is lost; the replica takes over and subscriptions come back', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const { sessionId, master } = await sessionOn([alice, bob]);
    const sender = await h.chat(0, sessionId, alice);
    const observer = await h.chat(1, sessionId, bob);
    const answers = new Map<string, Answer>();
    const send = async (clientMsgId: string) => {
      const answer = await answerTo(sender, clientMsgId);
      answers.set(clientMsgId, answer);
      return answer;
    };
    for (let i = 1; i <= 10; i++) await send(`m-${String(i)}`);

    const killed = cluster.kill(master);
    let ackedAfter = 0;
    let n = 10;
    const deadline = Date.now() + 40_000;
    await killed;
    while (ackedAfter < 5) {
      if (Date.now() > deadline) throw new Error(`no recovery: ${JSON.stringify([...answers].slice(10))}`);
      if ((await send(`m-${String(++n)}`)).kind === 'ack') ackedAfter++;
      else await sleep(100);
    }
    expect(await cluster.masterPorts()).not.toContain(master);

    // Each send got one answer: ack, or unavailable during the failover.
    await sleep(500);
    for (const clientMsgId of answers.keys()) {
      const frames = [...sender.ofType('ack'), ...sender.ofType('error')].filter((frame) => frame['clientMsgId'] === clientMsgId);
      expect(frames).toHaveLength(1);
    }
    expect(new Set([...answers.values()].map((answer) => (answer.kind === 'ack' ? 'ack' : answer.code)))).toEqual(new Set(['ack', ...([...answers.values()].some((answer) => answer.kind === 'error') ? ['unavailable'] : [])]));

    // As a client would: send again what was refused, with the same clientMsgId.
    for (const [clientMsgId, answer] of answers) if (answer.kind === 'error') expect(await send(clientMsgId)).toMatchObject({ kind: 'ack' });
    const acked = [...answers].flatMap(([clientMsgId, answer]) => (answer.kind === 'ack' ? [{ clientMsgId, ...answer }] : []));
    expect(acked).toHaveLength(n);
    expect(new Set(acked.map((entry) => entry.seq)).size).toBe(n);

    const rows = await h.persisted(sessionId, n, 20_000);
    expect(new Set(rows.map((row) => row.seq)).size).toBe(rows.length);
    for (const entry of acked) expect(rows.filter((row) => row.id === entry.id).map((row) => row.seq)).toEqual([entry.seq]);

    // The subscription moved to the promoted replica: messages after the failover reach the other replica live.
    const last = acked.at(-1);
    await observer.next((frame) => frame.type === 'message' && frame['seq'] === last?.seq, 15_000);
    await until('both replicas ready', async () => (await readiness(0)).status === 200 && (await readiness(1)).status === 200, 20_000);
  }, 120_000);
});
