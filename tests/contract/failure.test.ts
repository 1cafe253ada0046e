import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Frame, TestClient } from '@chat/gateway/testing';
import { GAP_USER_ID } from '@chat/protocol';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { startStack } from '../support/stack.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';
import { Harness, range, sleep } from './harness.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);

type Answer = { kind: 'ack'; id: string; seq: number } | { kind: 'error'; code: string };

/** A member sending numbered messages on one socket and recording what each send was answered. */
class Sender {
  readonly client: TestClient;
  readonly name: string;
  readonly answers = new Map<string, Answer>();
  readonly sent: string[] = [];

  constructor(client: TestClient, name: string) {
    this.client = client;
    this.name = name;
  }

  send(clientMsgId = `${this.name}-${this.sent.length + 1}`): Promise<Answer> {
    if (!this.sent.includes(clientMsgId)) this.sent.push(clientMsgId);
    this.client.send({ type: 'send', clientMsgId, body: `${this.name} says ${clientMsgId}` });
    return this.client
      .next((frame) => (frame.type === 'ack' || frame.type === 'error') && frame['clientMsgId'] === clientMsgId, 15_000)
      .then((frame) => {
        const answer = toAnswer(frame);
        this.answers.set(clientMsgId, answer);
        return answer;
      });
  }

  unacked(): string[] {
    return this.sent.filter((id) => this.answers.get(id)?.kind !== 'ack');
  }

  acked(): { clientMsgId: string; id: string; seq: number }[] {
    return [...this.answers].flatMap(([clientMsgId, answer]) => (answer.kind === 'ack' ? [{ clientMsgId, id: answer.id, seq: answer.seq }] : []));
  }
}

function toAnswer(frame: Frame): Answer {
  return frame.type === 'ack' ? { kind: 'ack', id: String(frame['id']), seq: Number(frame['seq']) } : { kind: 'error', code: String(frame['code']) };
}

describeReal('a dependency cut during traffic (services backend)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = new Harness(await startStack('services', { proxies: true, env: { RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' } }));
  });

  afterEach(() => {
    h.closeAll();
  });

  afterAll(async () => {
    await h.stack.stop();
  });

  async function readyz(replica: number): Promise<number> {
    const response = await fetch(`${h.stack.gatewayUrls[replica]}/readyz`);
    await response.arrayBuffer();
    return response.status;
  }

  async function until(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  async function apiReadyz(): Promise<number> {
    const response = await fetch(`${h.stack.apiUrl}/readyz`);
    await response.arrayBuffer();
    return response.status;
  }

  function proxy(dependency: 'redis' | 'nats' | 'gatewayANats'): TcpProxy {
    const proxies = h.stack.proxies;
    if (!proxies) throw new Error('the stack runs without proxies');
    return proxies[dependency];
  }

  it.each(['redis', 'nats'] as const)(
    'when %s goes away, sends over WebSocket and REST get unavailable and never an ack, readiness fails, and service comes back by itself with every acked message stored once',
    async (dependency) => {
      const [alice, carol, bob] = [randomUUID(), randomUUID(), randomUUID()];
      const sessionId = await h.createSession([alice, carol, bob]);
      const senders = [new Sender(await h.chat(0, sessionId, alice), 'alice'), new Sender(await h.chat(1, sessionId, carol), 'carol')];
      const observer = await h.chat(1, sessionId, bob);

      for (let i = 0; i < 5; i++) await Promise.all(senders.map((sender) => sender.send()));
      expect(senders.flatMap((sender) => [...sender.answers.values()]).every((answer) => answer.kind === 'ack')).toBe(true);

      await proxy(dependency).cut({ stopListening: true });
      // Keep sending until each sender has been told `unavailable`. Everything sent from now on
      // reaches a gateway after the cut, so an ack for any of it would be a false one.
      const during: Promise<Answer>[] = [];
      const refused = new Set<Sender>();
      await until(
        'an unavailable error on both replicas',
        async () => {
          for (const sender of senders) {
            during.push(
              sender.send().then((answer) => {
                if (answer.kind === 'error') refused.add(sender);
                return answer;
              }),
            );
          }
          await sleep(200);
          return refused.size === senders.length;
        },
        15_000,
      );
      const answered = await Promise.all(during);
      expect(answered.filter((answer) => answer.kind === 'ack')).toEqual([]);
      expect(new Set(answered.map((answer) => (answer.kind === 'error' ? answer.code : 'ack')))).toEqual(new Set(['unavailable']));
      expect(await readyz(0)).toBe(503);
      expect(await readyz(1)).toBe(503);
      expect(await apiReadyz()).toBe(503);
      const restToken = await h.stack.token(alice);
      const restPath = `/api/chat/sessions/${sessionId}/messages`;
      const restDuring = await h.api('POST', restPath, { token: restToken, body: { body: 'posted during the outage', clientMsgId: 'rest-1' } });
      expect(restDuring).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });

      await proxy(dependency).start();
      await until('readiness on both replicas and the session-api', async () => (await readyz(0)) === 200 && (await readyz(1)) === 200 && (await apiReadyz()) === 200, 20_000);
      for (const sender of senders) await expect(sender.send(`${sender.name}-after`)).resolves.toMatchObject({ kind: 'ack' });
      // As a client would: send again whatever was not acknowledged, with the same clientMsgId.
      for (const sender of senders) for (const clientMsgId of sender.unacked()) await expect(sender.send(clientMsgId)).resolves.toMatchObject({ kind: 'ack' });

      const restAfter = await h.api<{ id: string; seq: number }>('POST', restPath, { token: restToken, body: { body: 'posted during the outage', clientMsgId: 'rest-1' } });
      expect(restAfter.status).toBe(201);

      const acked = [...senders.flatMap((sender) => sender.acked()), { clientMsgId: 'rest-1', id: restAfter.body.id, seq: restAfter.body.seq }];
      const total = senders.reduce((sum, sender) => sum + sender.sent.length, 1);
      expect(acked).toHaveLength(total);
      expect(acked.map((entry) => entry.seq).sort((x, y) => x - y)).toEqual(range(1, total));
      const rows = await h.persisted(sessionId, total, 15_000);
      await sleep(300);
      expect(await h.persisted(sessionId, total)).toEqual(rows);
      expect(rows.map((row) => row.seq)).toEqual(range(1, total));
      for (const entry of acked) expect(rows.filter((row) => row.id === entry.id).map((row) => row.seq)).toEqual([entry.seq]);
      // Live fan-out recovered too: the listening member got the messages sent after recovery, once
      // each and in order. Seqs allocated during the outage and filled by a retry only after newer
      // ones went out cannot reach it live without breaking order; a resume with lastSeq brings them.
      const lastSeqs = senders.map((sender) => sender.answers.get(`${sender.name}-after`));
      await until('the observer to see the messages sent after recovery', () => Promise.resolve(lastSeqs.every((answer) => answer?.kind === 'ack' && observer.ofType('message').some((frame) => frame['seq'] === answer.seq))), 10_000);
      const live = observer.ofType('message').map((frame) => Number(frame['seq']));
      expect(live).toEqual([...new Set(live)].sort((x, y) => x - y));
      expect(live.slice(0, 10)).toEqual(range(1, 10));
      const resumed = await h.chat(0, sessionId, bob, { lastSeq: 10 });
      await resumed.take('message', total - 10);
      await sleep(100);
      expect(resumed.ofType('message').map((frame) => frame['seq'])).toEqual(range(11, total));
    },
    60_000,
  );

  it('a send cut off with NATS leaves no hole in the seqs when the client never sends it again, and live delivery does not stall', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const sessionId = await h.createSession([alice, bob]);
    const sender = new Sender(await h.chat(0, sessionId, alice), 'alice');
    const observer = await h.chat(1, sessionId, bob);
    for (let seq = 1; seq <= 3; seq++) await expect(sender.send()).resolves.toMatchObject({ kind: 'ack', seq });

    // The publish is on the wire when the link goes quiet, and the connection drops before its PubAck.
    proxy('nats').hold();
    const lost = sender.send('lost');
    await sleep(300);
    await proxy('nats').cut({ stopListening: true });
    // Time for the replica's NATS client to see its socket close, well before the PubAck timeout.
    await sleep(1_000);
    // Known to be disconnected: refused at once, without waiting for a PubAck that cannot come.
    const started = Date.now();
    await expect(sender.send('refused')).resolves.toEqual({ kind: 'error', code: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(lost).resolves.toEqual({ kind: 'error', code: 'unavailable' });

    await proxy('nats').start();
    await until('readiness on both replicas', async () => (await readyz(0)) === 200 && (await readyz(1)) === 200, 20_000);
    // The cut-off send may have reached the stream, so its seq 4 is never given to another message:
    // once NATS is back it is sealed (a gap record, or the message itself had it landed).
    await expect(sender.send('after')).resolves.toMatchObject({ kind: 'ack', seq: 5 });
    // Well inside the gateways' gap-skip wait: nothing holds the live feed back.
    await observer.next((frame) => frame.type === 'message' && frame['seq'] === 5, 3_000);
    expect(observer.ofType('message').map((frame) => frame['seq'])).toEqual(range(1, 5));
    const history = await h.api<{ messages: { seq: number; userId: string; clientMsgId?: string }[] }>('GET', `/api/chat/history/${sessionId}?after=0`, { token: await h.stack.token(alice) });
    const sealed = history.body.messages.find((m) => m.seq === 4);
    expect(sealed?.userId === GAP_USER_ID || sealed?.clientMsgId === 'lost').toBe(true);
    expect(history.body.messages.filter((m) => m.seq !== 4).map((m) => [m.seq, m.clientMsgId])).toEqual([
      [1, 'alice-1'],
      [2, 'alice-2'],
      [3, 'alice-3'],
      [5, 'after'],
    ]);
  }, 60_000);

  it('a send cut off with one replica\'s NATS is sealed by the other replica before its next seq, so live readers on both get the gap first however long the cut lasts', async () => {
    const [alice, carol, bob, dave] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const sessionId = await h.createSession([alice, carol, bob, dave]);
    const cutOff = new Sender(await h.chat(0, sessionId, alice), 'alice');
    const healthy = new Sender(await h.chat(1, sessionId, carol), 'carol');
    const readers = [await h.chat(0, sessionId, bob), await h.chat(1, sessionId, dave)];
    for (let seq = 1; seq <= 3; seq++) await expect(cutOff.send()).resolves.toMatchObject({ kind: 'ack', seq });

    // Only gateway-a loses NATS, with its publish of seq 4 on the wire.
    proxy('gatewayANats').hold();
    const lost = cutOff.send('lost');
    await sleep(300);
    await proxy('gatewayANats').cut({ stopListening: true });
    await expect(lost).resolves.toEqual({ kind: 'error', code: 'unavailable' });

    // Gateway-b takes the session's next send while gateway-a stays cut for longer than the readers' hole skip (5 s).
    await expect(healthy.send('next')).resolves.toMatchObject({ kind: 'ack', seq: 5 });
    for (const reader of readers) await reader.next((frame) => frame.type === 'message' && frame['seq'] === 5, 8_000);
    for (const reader of readers) {
      const frames = reader.ofType('message');
      expect(frames.map((frame) => frame['seq'])).toEqual(range(1, 5));
      const sealed = frames.find((frame) => frame['seq'] === 4);
      expect(sealed?.['userId'] === GAP_USER_ID || sealed?.['clientMsgId'] === 'lost').toBe(true);
    }

    await proxy('gatewayANats').start();
    await until('readiness on gateway-a', async () => (await readyz(0)) === 200, 20_000);
    // Back, gateway-a finds seq 4 settled: its own seal adds nothing, and its next send takes seq 6.
    await expect(cutOff.send('after')).resolves.toMatchObject({ kind: 'ack', seq: 6 });
    const rows = await h.persisted(sessionId, 6, 15_000);
    await sleep(1_000);
    expect(await h.persisted(sessionId, 6)).toEqual(rows);
    expect(rows.map((row) => row.seq)).toEqual(range(1, 6));
    for (const reader of readers) {
      await reader.next((frame) => frame.type === 'message' && frame['seq'] === 6, 5_000);
      expect(reader.ofType('message').map((frame) => frame['seq'])).toEqual(range(1, 6));
    }
  }, 60_000);
});
