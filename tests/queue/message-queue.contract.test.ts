import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { QueueUnavailableError, type QueueConsumer, type QueuedMessage } from '@chat/core';
import { isSeqGap, seqGap, type ChatMessage } from '@chat/protocol';
import { chatMessage } from '../support/chat-messages.ts';
import { queueBackends, type QueueHarness } from './queue-harness.ts';

const decoder = new TextDecoder();

function message(sessionId: string, seq: number): ChatMessage {
  return chatMessage(sessionId, seq, { body: `m${seq}`, timestamp: new Date().toISOString() });
}

function decode(item: QueuedMessage): ChatMessage {
  return JSON.parse(decoder.decode(item.data)) as ChatMessage;
}

interface Delivery {
  message: ChatMessage;
  item: QueuedMessage;
  at: number;
}

/**
 * Runs the consumer, letting `handle` settle each delivery (ack by default), until `done` holds
 * for everything delivered so far or the time runs out.
 */
async function consume(
  consumer: QueueConsumer,
  done: (deliveries: readonly Delivery[]) => boolean,
  options: { handle?: (delivery: Delivery, all: readonly Delivery[]) => void | Promise<void>; timeoutMs?: number; batches?: number[]; signal?: AbortSignal } = {},
): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 10_000);
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  await consumer.run(controller.signal, async (batch) => {
    options.batches?.push(batch.length);
    for (const item of batch) {
      const delivery = { message: decode(item), item, at: Date.now() };
      deliveries.push(delivery);
      if (options.handle) await options.handle(delivery, deliveries);
      else item.ack();
    }
    if (done(deliveries)) controller.abort();
  });
  clearTimeout(timer);
  return deliveries;
}

const ids = (deliveries: readonly Delivery[]) => deliveries.map((delivery) => delivery.message.id);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of await queueBackends()) {
  (backend.available ? describe : describe.skip)(`MessageQueue and QueueConsumer on ${backend.name}`, () => {
    let harness: QueueHarness | undefined;
    const open = async (options?: { ackWaitMs?: number }) => (harness = await backend.open(options));

    afterEach(async () => {
      await harness?.dispose();
      harness = undefined;
    });

    it('delivers a published message with its payload, headers and a first delivery count', async () => {
      const { queue, consumer } = await open();
      const sent = message(randomUUID(), 1);
      await queue.publish(sent, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
      const [delivery] = await consume(await consumer(10), (all) => all.length >= 1);
      expect(delivery?.message).toEqual(sent);
      expect(delivery?.item.headers['traceparent']).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      expect(delivery?.item.deliveryCount).toBe(1);
    });

    it('is ready to publish while open and not once closed', async () => {
      const { queue } = await open();
      expect(queue.ready()).toBe(true);
      await queue.close();
      expect(queue.ready()).toBe(false);
    });

    it('reads back a session\'s messages in a seq range, ascending and bounded, whether or not the consumer has acked them', async () => {
      const { queue, consumer } = await open();
      const sessionId = randomUUID();
      const other = randomUUID();
      // Published out of seq order, as concurrent senders and retries do.
      for (const seq of [1, 2, 4, 3, 5, 6, 7, 8]) await queue.publish(message(sessionId, seq));
      await queue.publish(message(other, 5));
      await consume(await consumer(3), (all) => all.length >= 4);

      expect((await queue.range(sessionId, 2, 7, 100)).map((m) => m.seq)).toEqual([3, 4, 5, 6]);
      expect((await queue.range(sessionId, 0, 100, 3)).map((m) => m.seq)).toEqual([1, 2, 3]);
      expect((await queue.range(sessionId, 0, 100, 100)).every((m) => m.sessionId === sessionId)).toBe(true);
      expect(await queue.range(sessionId, 8, 100, 10)).toEqual([]);
      expect(await queue.range(randomUUID(), 0, 100, 10)).toEqual([]);
    });

    it('delivers a message published twice with the same id only once', async () => {
      const { queue, consumer } = await open();
      const sessionId = randomUUID();
      const repeated = message(sessionId, 1);
      const last = message(sessionId, 2);
      await queue.publish(repeated);
      await queue.publish({ ...repeated });
      await queue.publish(last);
      const deliveries = await consume(await consumer(10), (all) => ids(all).includes(last.id));
      await sleep(200);
      expect(ids(deliveries)).toEqual([repeated.id, last.id]);
    });

    it('stores one message per (session, user, clientMsgId) and answers a repeat with the first copy', async () => {
      const { queue, consumer } = await open();
      const sessionId = randomUUID();
      const userId = randomUUID();
      const first = { ...message(sessionId, 1), userId, clientMsgId: 'once' };
      // A resend after live state was lost: a new id and seq, the same key.
      const resend = { ...message(sessionId, 7), userId, clientMsgId: 'once', body: 'again' };
      const otherUser = { ...message(sessionId, 2), clientMsgId: 'once' };
      expect(await queue.publish(first)).toEqual({ duplicate: false });
      expect(await queue.publish(resend)).toEqual({ duplicate: true, first });
      expect(await queue.publish({ ...first })).toEqual({ duplicate: true, first });
      expect(await queue.publish(otherUser)).toEqual({ duplicate: false });
      const deliveries = await consume(await consumer(10), (all) => ids(all).includes(otherUser.id));
      await sleep(200);
      expect(ids(deliveries)).toEqual([first.id, otherUser.id]);
    });

    it('gives each of many publishes made at once its own outcome: one stored copy per key, repeats answered with it, in publish order per session', async () => {
      const { queue, consumer } = await open();
      const sessionIds = [randomUUID(), randomUUID()];
      const userId = randomUUID();
      const sent = sessionIds.flatMap((sessionId) => [1, 2, 3, 4].map((seq) => ({ ...message(sessionId, seq), userId, clientMsgId: `k${seq}` })));
      // Same keys as seq 2 of each session, different ids and seqs: resends made in the same turn.
      const repeats = sessionIds.map((sessionId) => ({ ...message(sessionId, 9), userId, clientMsgId: 'k2' }));
      const outcomes = await Promise.all([...sent, ...repeats].map((m) => queue.publish(m)));
      expect(outcomes.slice(0, sent.length)).toEqual(sent.map(() => ({ duplicate: false })));
      expect(outcomes.slice(sent.length)).toEqual(sessionIds.map((sessionId) => ({ duplicate: true, first: sent.find((m) => m.sessionId === sessionId && m.seq === 2) })));
      const deliveries = await consume(await consumer(50), (all) => all.length >= sent.length);
      await sleep(200);
      for (const sessionId of sessionIds) {
        expect(deliveries.filter((d) => d.message.sessionId === sessionId).map((d) => d.message.seq)).toEqual([1, 2, 3, 4]);
      }
    });

    it('stores exactly one of a message and the gap record sealing its seq, and a resend after the gap under a key of its own', async () => {
      const { queue } = await open();
      const sessionId = randomUUID();
      const userId = randomUUID();
      // The message landed although its PubAck was lost: the gap is the duplicate.
      const landed = { ...message(sessionId, 1), userId, clientMsgId: 'landed' };
      await queue.publish(landed);
      expect(await queue.publish(seqGap(landed, randomUUID()), undefined, landed)).toEqual({ duplicate: true, first: landed });
      // The message was lost: the gap takes its seq and key, and the message can no longer land there.
      const lost = { ...message(sessionId, 2), userId, clientMsgId: 'lost' };
      const gap = seqGap(lost, randomUUID());
      expect(await queue.publish(gap, undefined, lost)).toEqual({ duplicate: false });
      expect(await queue.publish(lost)).toEqual({ duplicate: true, first: gap });
      // A resend with a new seq is stored, once.
      const resend = { ...lost, id: randomUUID(), seq: 3 };
      expect(await queue.publish(resend)).toEqual({ duplicate: false });
      expect(await queue.publish({ ...resend, id: randomUUID() })).toEqual({ duplicate: true, first: resend });
      expect((await queue.range(sessionId, 0, 10, 10)).map((m) => [m.seq, isSeqGap(m)])).toEqual([
        [1, false],
        [2, true],
        [3, false],
      ]);
    });

    it('reports the last seq published for a session, and 0 for a session it never saw', async () => {
      const { queue } = await open();
      const sessionId = randomUUID();
      for (const seq of [1, 2, 3]) await queue.publish(message(sessionId, seq));
      await queue.publish(message(randomUUID(), 9));
      expect(await queue.lastSeq(sessionId)).toBe(3);
      expect(await queue.lastSeq(randomUUID())).toBe(0);
    });

    it('redelivers a message that was nak-ed, counting the delivery', async () => {
      const { queue, consumer } = await open();
      const sent = message(randomUUID(), 1);
      await queue.publish(sent);
      const deliveries = await consume(await consumer(10), (all) => all.length >= 2, {
        handle: ({ item }) => (item.deliveryCount === 1 ? item.nak() : item.ack()),
      });
      expect(ids(deliveries)).toEqual([sent.id, sent.id]);
      expect(deliveries.map((delivery) => delivery.item.deliveryCount)).toEqual([1, 2]);
    });

    it('waits for the requested delay before redelivering a nak-ed message', async () => {
      const { queue, consumer } = await open();
      await queue.publish(message(randomUUID(), 1));
      const deliveries = await consume(await consumer(10), (all) => all.length >= 2, {
        handle: ({ item }) => (item.deliveryCount === 1 ? item.nak(600) : item.ack()),
      });
      expect(deliveries).toHaveLength(2);
      expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(500);
    });

    it('never redelivers a terminated message, and keeps delivering the ones after it', async () => {
      const { queue, consumer } = await open();
      const sessionId = randomUUID();
      const poison = message(sessionId, 1);
      const next = message(sessionId, 2);
      await queue.publish(poison);
      await queue.publish(next);
      const queueConsumer = await consumer(1);
      const deliveries = await consume(queueConsumer, () => false, {
        handle: ({ item, message: sent }) => (sent.id === poison.id ? item.term('cannot be stored') : item.ack()),
        timeoutMs: 1_500,
      });
      expect(ids(deliveries)).toEqual([poison.id, next.id]);
      expect(await queueConsumer.pending()).toBe(0);
    });

    it('does not redeliver an acknowledged message', async () => {
      const { queue, consumer } = await open({ ackWaitMs: 1_000 });
      const sent = message(randomUUID(), 1);
      await queue.publish(sent);
      const queueConsumer = await consumer(10);
      const deliveries = await consume(queueConsumer, () => false, { timeoutMs: 2_000 });
      expect(ids(deliveries)).toEqual([sent.id]);
      expect(await queueConsumer.pending()).toBe(0);
    });

    it('redelivers a message left without an answer past the ack wait', async () => {
      const { queue, consumer } = await open({ ackWaitMs: 1_000 });
      const sent = message(randomUUID(), 1);
      await queue.publish(sent);
      const deliveries = await consume(await consumer(10), (all) => all.length >= 2, {
        handle: ({ item }) => (item.deliveryCount === 1 ? undefined : item.ack()),
      });
      expect(ids(deliveries)).toEqual([sent.id, sent.id]);
      expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(900);
    });

    it('hands over batches of at most the batch size', async () => {
      const { queue, consumer } = await open();
      const sessionId = randomUUID();
      for (let seq = 1; seq <= 25; seq += 1) await queue.publish(message(sessionId, seq));
      const batches: number[] = [];
      const deliveries = await consume(await consumer(10), (all) => all.length >= 25, { batches });
      expect(deliveries.map((delivery) => delivery.message.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, index) => index + 1));
      expect(Math.max(...batches)).toBeLessThanOrEqual(10);
      expect(Math.max(...batches)).toBeGreaterThan(1);
    });

    it('counts the messages waiting for the consumer', async () => {
      const { queue, consumer } = await open();
      const queueConsumer = await consumer(10);
      expect(await queueConsumer.pending()).toBe(0);
      for (let seq = 1; seq <= 5; seq += 1) await queue.publish(message(randomUUID(), seq));
      expect(await queueConsumer.pending()).toBe(5);
    });

    it('shares the work between consumers on the same durable cursor, each message once', async () => {
      const { queue, consumer } = await open();
      const sessionId = randomUUID();
      const sent = Array.from({ length: 200 }, (_, index) => message(sessionId, index + 1));
      for (const item of sent) await queue.publish(item);
      const seen = new Set<string>();
      const everyone = new AbortController();
      const allSeen = () => {
        if (seen.size >= sent.length) everyone.abort();
        return everyone.signal.aborted;
      };
      const slowAck = async ({ item, message: received }: Delivery) => {
        seen.add(received.id);
        await sleep(2);
        item.ack();
      };
      const [first, second] = await Promise.all([
        consume(await consumer(10), allSeen, { handle: slowAck, signal: everyone.signal }),
        consume(await consumer(10), allSeen, { handle: slowAck, signal: everyone.signal }),
      ]);
      expect(first.length).toBeGreaterThan(0);
      expect(second.length).toBeGreaterThan(0);
      expect([...ids(first), ...ids(second)].sort()).toEqual(sent.map((item) => item.id).sort());
    });

    it('stops running when the signal aborts while nothing arrives', async () => {
      const { consumer } = await open();
      const controller = new AbortController();
      const running = (await consumer(10)).run(controller.signal, () => Promise.resolve());
      await sleep(100);
      controller.abort();
      await expect(running).resolves.toBeUndefined();
    });

    it('refuses to publish once closed', async () => {
      const { queue } = await open();
      await queue.close();
      await expect(queue.publish(message(randomUUID(), 1))).rejects.toBeInstanceOf(QueueUnavailableError);
      await expect(queue.ping()).rejects.toThrow();
    });
  });
}
