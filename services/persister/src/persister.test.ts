import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { MemoryQueue, type QueuedMessage } from '@chat/core';
import type { ChatMessage } from '@chat/protocol';
import { Persister, type PersisterLogger } from './persister.ts';

function message(seq: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return { type: 'message', id: randomUUID(), sessionId: randomUUID(), seq, userId: randomUUID(), body: `secret body ${seq}`, metadata: {}, timestamp: new Date().toISOString(), ...extra };
}

class RecordingLogger implements PersisterLogger {
  readonly lines: { level: string; object: object; message: string }[] = [];
  debug(object: object, message: string): void {
    this.lines.push({ level: 'debug', object, message });
  }
  warn(object: object, message: string): void {
    this.lines.push({ level: 'warn', object, message });
  }
  error(object: object, message: string): void {
    this.lines.push({ level: 'error', object, message });
  }
}

/** A store that keeps rows by id and can be told to fail. */
class FakeStore {
  readonly rows = new Map<string, ChatMessage>();
  readonly calls: number[] = [];
  failures = 0;
  refuse: ((message: ChatMessage) => boolean) | undefined;

  insertMessages(messages: readonly ChatMessage[]): Promise<number> {
    this.calls.push(messages.length);
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    }
    const refused = messages.find((item) => this.refuse?.(item));
    if (refused !== undefined) {
      // Like PostgreSQL, the error's detail quotes the failing row.
      const detail = `Failing row contains (${refused.id}, ${refused.body}).`;
      return Promise.reject(Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021', detail }));
    }
    const fresh = messages.filter((item) => !this.rows.has(item.id));
    for (const item of fresh) this.rows.set(item.id, item);
    return Promise.resolve(fresh.length);
  }
}

function setup(options: { batchSize?: number; retryDelayMs?: number } = {}) {
  const queue = new MemoryQueue();
  const consumer = queue.consumer({ batchSize: options.batchSize ?? 100 });
  const store = new FakeStore();
  const logger = new RecordingLogger();
  const persister = new Persister({ consumer, store, logger, retryDelayMs: options.retryDelayMs ?? 20 });
  const controller = new AbortController();
  const running = persister.run(controller.signal);
  const stop = async () => {
    controller.abort();
    await running;
    await queue.close();
  };
  return { queue, consumer, store, logger, persister, stop };
}

async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const encoder = new TextEncoder();

type Outcome = 'ack' | 'nak' | 'term' | undefined;

/** Hands over one batch of raw payloads, as a broken or hostile producer could have queued them. */
class RawBatch {
  readonly outcomes: Outcome[];
  readonly items: QueuedMessage[];

  constructor(payloads: readonly string[]) {
    this.outcomes = payloads.map(() => undefined);
    this.items = payloads.map((payload, index) => ({
      data: encoder.encode(payload),
      headers: {},
      deliveryCount: 1,
      ack: () => (this.outcomes[index] ??= 'ack'),
      nak: () => (this.outcomes[index] ??= 'nak'),
      term: () => (this.outcomes[index] ??= 'term'),
    }));
  }

  consumer() {
    return {
      run: async (_signal: AbortSignal, onBatch: (batch: readonly QueuedMessage[]) => Promise<void>) => onBatch(this.items),
      pending: () => Promise.resolve(0),
    };
  }
}

describe('Persister', () => {
  it('acknowledges a batch only once its write has returned', async () => {
    const sent = [message(1), message(2), message(3)];
    const batch = new RawBatch(sent.map((item) => JSON.stringify(item)));
    const written: ChatMessage[][] = [];
    let finishWrite: (() => void) | undefined;
    const store = {
      insertMessages: (messages: readonly ChatMessage[]) =>
        new Promise<number>((resolve) => {
          written.push([...messages]);
          finishWrite = () => resolve(messages.length);
        }),
    };
    const running = new Persister({ consumer: batch.consumer(), store, logger: new RecordingLogger() }).run(new AbortController().signal);
    await eventually(() => finishWrite !== undefined);
    // The insert is still in flight: give every pending callback its turn, then look.
    await new Promise((resolve) => setImmediate(resolve));
    expect(batch.outcomes).toEqual([undefined, undefined, undefined]);
    finishWrite?.();
    await running;
    expect(written).toEqual([sent]);
    expect(batch.outcomes).toEqual(['ack', 'ack', 'ack']);
  });

  it('writes the messages waiting in the queue with one insert and leaves none pending', async () => {
    const { queue, consumer, store, stop } = setup();
    const sent = [message(1), message(2), message(3)];
    // Published in one go, so they are waiting together when the consumer wakes.
    await Promise.all(sent.map((item) => queue.publish(item)));
    await eventually(() => store.rows.size === 3);
    await eventually(async () => (await consumer.pending()) === 0);
    expect(store.calls).toEqual([3]);
    expect([...store.rows.values()]).toEqual(sent);
    await stop();
  });

  it('hands a batch back with a delay when the database fails, reports it, and writes it later', async () => {
    const { queue, store, persister, logger, stop } = setup({ retryDelayMs: 50 });
    store.failures = 2;
    const sent = message(1);
    await queue.publish(sent);
    await eventually(() => store.calls.length >= 1);
    await expect(persister.check()).rejects.toThrow(/latest write to the database failed/);
    await eventually(() => store.rows.size === 1);
    await expect(persister.check()).resolves.toBeUndefined();
    expect(store.calls).toEqual([1, 1, 1]);
    expect(logger.lines.filter((line) => line.level === 'error')).toHaveLength(2);
    await stop();
  });

  it('never logs a message body', async () => {
    const { queue, store, logger, stop } = setup({ retryDelayMs: 10 });
    store.failures = 1;
    store.refuse = (item) => item.seq === 2;
    await queue.publish(message(1));
    await queue.publish(message(2));
    await eventually(() => store.rows.size === 1);
    expect(JSON.stringify(logger.lines)).not.toContain('secret body');
    await stop();
  });

  it('terminates payloads that are not chat messages, logging their ids, and writes the valid ones', async () => {
    const valid = message(2);
    const broken = { ...message(3), seq: -1 };
    const batch = new RawBatch(['not json', JSON.stringify(broken), JSON.stringify(valid), JSON.stringify({ hello: 'world' })]);
    const store = new FakeStore();
    const logger = new RecordingLogger();
    await new Persister({ consumer: batch.consumer(), store, logger }).run(new AbortController().signal);
    expect(batch.outcomes).toEqual(['term', 'term', 'ack', 'term']);
    expect([...store.rows.values()]).toEqual([valid]);
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(3);
    expect(warnings[1]?.object).toMatchObject({ id: broken.id, sessionId: broken.sessionId, reason: expect.stringContaining('seq') });
    expect(JSON.stringify(logger.lines)).not.toContain('secret body');
  });

  it('terminates a message the database refuses as data and still writes the rest of its batch', async () => {
    const refused = message(2, { body: 'bad\u0000byte' });
    const sent = [message(1), refused, message(3)];
    const batch = new RawBatch(sent.map((item) => JSON.stringify(item)));
    const store = new FakeStore();
    store.refuse = (item) => item.id === refused.id;
    await new Persister({ consumer: batch.consumer(), store, logger: new RecordingLogger() }).run(new AbortController().signal);
    expect(batch.outcomes).toEqual(['ack', 'term', 'ack']);
    expect([...store.rows.keys()].sort()).toEqual([sent[0]!.id, sent[2]!.id].sort());
  });

  it('stops when the signal aborts while waiting for messages', async () => {
    const { stop } = setup();
    await expect(stop()).resolves.toBeUndefined();
  });
});
