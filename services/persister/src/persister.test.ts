import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { MemoryQueue, type NewDeadLetter, type QueuedMessage } from '@chat/core';
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

/** A dead-letter store that keeps entries by message id and can be told to fail. */
class FakeDeadLetters {
  readonly entries: NewDeadLetter[] = [];
  failures = 0;

  add(entry: NewDeadLetter): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    }
    this.entries.push(entry);
    return Promise.resolve();
  }
}

function setup(options: { batchSize?: number; retryDelayMs?: number } = {}) {
  const queue = new MemoryQueue();
  const consumer = queue.consumer({ batchSize: options.batchSize ?? 100 });
  const store = new FakeStore();
  const logger = new RecordingLogger();
  const deadLetters = new FakeDeadLetters();
  const persister = new Persister({ consumer, store, deadLetters, logger, retryDelayMs: options.retryDelayMs ?? 20, maxAttempts: 2 });
  const controller = new AbortController();
  const running = persister.run(controller.signal);
  const stop = async () => {
    controller.abort();
    await running;
    await queue.close();
  };
  return { queue, consumer, store, deadLetters, logger, persister, stop };
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

  constructor(payloads: readonly string[], deliveryCount = 1) {
    this.outcomes = payloads.map(() => undefined);
    this.items = payloads.map((payload, index) => ({
      data: encoder.encode(payload),
      headers: {},
      deliveryCount,
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
    const running = new Persister({ consumer: batch.consumer(), store, deadLetters: new FakeDeadLetters(), logger: new RecordingLogger() }).run(new AbortController().signal);
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

  it('keeps payloads that are not chat messages as dead letters, acknowledged once recorded, and writes the valid ones', async () => {
    const valid = message(2);
    const broken = { ...message(3), seq: -1 };
    const payloads = ['not json', JSON.stringify(broken), JSON.stringify(valid), JSON.stringify({ hello: 'world' })];
    const batch = new RawBatch(payloads);
    const store = new FakeStore();
    const deadLetters = new FakeDeadLetters();
    const logger = new RecordingLogger();
    await new Persister({ consumer: batch.consumer(), store, deadLetters, logger }).run(new AbortController().signal);
    expect(batch.outcomes).toEqual(['ack', 'ack', 'ack', 'ack']);
    expect([...store.rows.values()]).toEqual([valid]);
    expect(deadLetters.entries.map((entry) => new TextDecoder().decode(entry.payload))).toEqual([payloads[0], payloads[1], payloads[3]]);
    expect(deadLetters.entries.map((entry) => entry.reason)).toEqual(['invalid_payload', 'invalid_payload', 'invalid_payload']);
    // The ids the payload names are kept where they are well-formed; the bad seq is not.
    expect(deadLetters.entries[1]).toMatchObject({ messageId: broken.id, sessionId: broken.sessionId, attempts: 1, error: expect.stringContaining('seq') });
    expect(deadLetters.entries[1]?.seq).toBeUndefined();
    expect(JSON.stringify(logger.lines)).not.toContain('secret body');
  });

  it('hands a message the database refuses back with a delay while it has deliveries left, and writes the rest of its batch', async () => {
    const refused = message(2, { body: 'bad\u0000byte' });
    const sent = [message(1), refused, message(3)];
    const batch = new RawBatch(sent.map((item) => JSON.stringify(item)));
    const store = new FakeStore();
    store.refuse = (item) => item.id === refused.id;
    const deadLetters = new FakeDeadLetters();
    await new Persister({ consumer: batch.consumer(), store, deadLetters, logger: new RecordingLogger(), maxAttempts: 3 }).run(new AbortController().signal);
    expect(batch.outcomes).toEqual(['ack', 'nak', 'ack']);
    expect([...store.rows.keys()].sort()).toEqual([sent[0]!.id, sent[2]!.id].sort());
    expect(deadLetters.entries).toEqual([]);
  });

  it('keeps a message the database still refuses on its last delivery as a dead letter with the error, and acknowledges it', async () => {
    const refused = message(2, { body: 'bad\u0000byte' });
    const sent = [message(1), refused, message(3)];
    const batch = new RawBatch(sent.map((item) => JSON.stringify(item)), 3);
    const store = new FakeStore();
    store.refuse = (item) => item.id === refused.id;
    const deadLetters = new FakeDeadLetters();
    const counted: string[] = [];
    const metrics = { batchWritten: () => undefined, lag: () => undefined, deadLettered: (reason: string) => counted.push(reason) };
    const logger = new RecordingLogger();
    await new Persister({ consumer: batch.consumer(), store, deadLetters, logger, metrics, maxAttempts: 3 }).run(new AbortController().signal);
    expect(batch.outcomes).toEqual(['ack', 'ack', 'ack']);
    expect([...store.rows.keys()].sort()).toEqual([sent[0]!.id, sent[2]!.id].sort());
    expect(deadLetters.entries).toHaveLength(1);
    expect(deadLetters.entries[0]).toMatchObject({ messageId: refused.id, sessionId: refused.sessionId, seq: 2, reason: 'refused', errorCode: '22021', attempts: 3 });
    expect(deadLetters.entries[0]?.error).toContain('invalid byte sequence');
    // The detail quoting the row is not kept: only the message and the code.
    expect(deadLetters.entries[0]?.error).not.toContain('Failing row');
    expect(new TextDecoder().decode(deadLetters.entries[0]?.payload)).toBe(JSON.stringify(refused));
    expect(counted).toEqual(['refused']);
    expect(JSON.stringify(logger.lines)).not.toContain('bad\\u0000byte');
  });

  it('finds the refused rows of a large batch by splitting it, in far fewer inserts than one per row', async () => {
    const sent = Array.from({ length: 64 }, (_, index) => message(index + 1));
    const refusedSeqs = new Set([7, 40]);
    const batch = new RawBatch(sent.map((item) => JSON.stringify(item)), 5);
    const store = new FakeStore();
    store.refuse = (item) => refusedSeqs.has(item.seq);
    const deadLetters = new FakeDeadLetters();
    await new Persister({ consumer: batch.consumer(), store, deadLetters, logger: new RecordingLogger(), maxAttempts: 5 }).run(new AbortController().signal);
    expect(batch.outcomes.every((outcome) => outcome === 'ack')).toBe(true);
    expect(store.rows.size).toBe(62);
    expect(deadLetters.entries.map((entry) => entry.seq).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([7, 40]);
    expect(store.calls.length).toBeLessThan(30);
  });

  it('does not acknowledge a message whose dead letter cannot be recorded: it stays in the queue', async () => {
    const batch = new RawBatch(['not json', JSON.stringify(message(1))]);
    const store = new FakeStore();
    const deadLetters = new FakeDeadLetters();
    deadLetters.failures = 1;
    const persister = new Persister({ consumer: batch.consumer(), store, deadLetters, logger: new RecordingLogger() });
    await persister.run(new AbortController().signal);
    expect(batch.outcomes).toEqual(['nak', 'ack']);
    expect(deadLetters.entries).toEqual([]);
    await expect(persister.check()).rejects.toThrow(/latest write/);
  });

  it('still reports the failure while the redelivery of an undecodable payload waits on its dead letter, and clears it once recorded', async () => {
    const first = new RawBatch(['not json']);
    const again = new RawBatch(['not json'], 2);
    let adds = 0;
    let release: () => void = () => undefined;
    let adding: () => void = () => undefined;
    const secondAddStarted = new Promise<void>((resolve) => (adding = resolve));
    const deadLetters = {
      add: (): Promise<void> => {
        adds += 1;
        if (adds === 1) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
        adding();
        return new Promise<void>((resolve) => (release = resolve));
      },
    };
    const consumer = {
      run: async (_signal: AbortSignal, onBatch: (batch: readonly QueuedMessage[]) => Promise<void>) => {
        await onBatch(first.items);
        await onBatch(again.items);
      },
      pending: () => Promise.resolve(0),
    };
    const persister = new Persister({ consumer, store: new FakeStore(), deadLetters, logger: new RecordingLogger() });
    const running = persister.run(new AbortController().signal);
    await secondAddStarted;
    // The second batch has no row to insert, so it has proven nothing about the database yet.
    await expect(persister.check()).rejects.toThrow(/latest write/);
    release();
    await running;
    await expect(persister.check()).resolves.toBeUndefined();
    expect([first.outcomes, again.outcomes]).toEqual([['nak'], ['ack']]);
  });

  it('hands back every message not yet written when the database fails during the search for a refused row', async () => {
    const sent = Array.from({ length: 8 }, (_, index) => message(index + 1));
    const batch = new RawBatch(sent.map((item) => JSON.stringify(item)), 5);
    const store = new FakeStore();
    store.refuse = (item) => item.seq === 8;
    const deadLetters = new FakeDeadLetters();
    let calls = 0;
    const flaky = {
      insertMessages: (messages: readonly ChatMessage[]) => {
        calls += 1;
        // The whole batch is refused, its first half is written, then the database goes away.
        if (calls === 3) return Promise.reject(Object.assign(new Error('Connection terminated unexpectedly'), {}));
        return store.insertMessages(messages);
      },
    };
    await new Persister({ consumer: batch.consumer(), store: flaky, deadLetters, logger: new RecordingLogger(), retryDelayMs: 1 }).run(new AbortController().signal);
    expect(batch.outcomes).toEqual(['ack', 'ack', 'ack', 'ack', 'nak', 'nak', 'nak', 'nak']);
    expect(deadLetters.entries).toEqual([]);
  });

  it('stops when the signal aborts while waiting for messages', async () => {
    const { stop } = setup();
    await expect(stop()).resolves.toBeUndefined();
  });
});
