import type { ChatMessage } from '@chat/protocol';
import type { MessageQueue, PublishOutcome, QueueKeySource, QueueConsumer, QueuedMessage, QueueHeaders } from './ports.ts';
import { afterGap, queueMessageId, queueMessageIdAfterGap } from './queue-message-id.ts';
import { QueueUnavailableError } from './queue-unavailable-error.ts';

export interface MemoryQueueOptions {
  /** A repeated message id within this window is dropped, like JetStream's duplicate window. */
  duplicateWindowMs?: number;
  /** How long a message stays readable by range() once the consumer settled it. */
  settledRetentionMs?: number;
  now?: () => number;
}

export interface MemoryConsumerOptions {
  batchSize: number;
  /** Redelivery after this long without an ack. */
  ackWaitMs?: number;
}

interface Entry {
  readonly message: ChatMessage;
  readonly data: Uint8Array;
  readonly headers: QueueHeaders;
  deliveries: number;
  /** When it was acked or termed; undefined while it may still be delivered. */
  settledAt: number | undefined;
}

const encoder = new TextEncoder();

/** The stream and its one durable cursor, shared by the queue and every consumer made from it. */
class MemoryStream {
  readonly ready: Entry[] = [];
  /** Every entry in publish order, until it is settled and past the retention, for range(). */
  readonly log: Entry[] = [];
  readonly now: () => number;
  readonly timers = new Set<NodeJS.Timeout>();
  unsettled = 0;
  closed = false;
  readonly #waiters = new Set<() => void>();

  constructor(now: () => number) {
    this.now = now;
  }

  push(entry: Entry): void {
    this.ready.push(entry);
    this.notify();
  }

  notify(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves when there is something to take, the stream closes or the signal aborts. */
  async waitForReady(signal: AbortSignal): Promise<void> {
    while (this.ready.length === 0 && !this.closed && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          this.#waiters.delete(wake);
          resolve();
        };
        signal.addEventListener('abort', wake, { once: true });
        this.#waiters.add(wake);
      });
    }
  }

  later(ms: number, action: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    timer.unref();
    this.timers.add(timer);
    return timer;
  }

  cancel(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.notify();
  }
}

/**
 * The in-process queue of the embedded mode, with JetStream's semantics: de-duplication by
 * message id, redelivery after a nak or a missed ack, term drops for good.
 */
export class MemoryQueue implements MessageQueue {
  readonly #stream: MemoryStream;
  /** De-duplication key → when it was first published and the message stored under it. */
  readonly #seen = new Map<string, { at: number; message: ChatMessage }>();
  readonly #lastSeq = new Map<string, number>();
  readonly #duplicateWindowMs: number;
  readonly #settledRetentionMs: number;
  readonly #now: () => number;

  constructor(options: MemoryQueueOptions = {}) {
    this.#duplicateWindowMs = options.duplicateWindowMs ?? 2 * 60 * 1000;
    // Long enough that a reader who missed a message in the store (written just after its read)
    // still finds it here.
    this.#settledRetentionMs = options.settledRetentionMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#stream = new MemoryStream(this.#now);
  }

  /** A consumer on the queue's single durable cursor: consumers made here share the work. */
  consumer(options: MemoryConsumerOptions): MemoryQueueConsumer {
    return new MemoryQueueConsumer(this.#stream, options);
  }

  publish(message: ChatMessage, headers: QueueHeaders = {}, keyOf: QueueKeySource = message): Promise<PublishOutcome> {
    if (this.#stream.closed) return Promise.reject(new QueueUnavailableError('the queue is closed'));
    this.#forgetOldIds();
    let key = queueMessageId(keyOf);
    let seen = this.#seen.get(key);
    if (seen && afterGap(seen.message, message)) {
      key = queueMessageIdAfterGap(keyOf, seen.message.seq);
      seen = this.#seen.get(key);
    }
    if (seen) return Promise.resolve({ duplicate: true, first: seen.message });
    this.#seen.set(key, { at: this.#now(), message });
    this.#lastSeq.set(message.sessionId, Math.max(message.seq, this.#lastSeq.get(message.sessionId) ?? 0));
    const entry: Entry = { message, data: encoder.encode(JSON.stringify(message)), headers: { ...headers }, deliveries: 0, settledAt: undefined };
    this.#forgetSettled();
    this.#stream.log.push(entry);
    this.#stream.push(entry);
    return Promise.resolve({ duplicate: false });
  }

  range(sessionId: string, afterSeq: number, beforeSeq: number, limit: number): Promise<ChatMessage[]> {
    const found = this.#stream.log.filter(({ message }) => message.sessionId === sessionId && message.seq > afterSeq && message.seq < beforeSeq);
    return Promise.resolve(found.map((entry) => entry.message).sort((a, b) => a.seq - b.seq).slice(0, limit));
  }

  ready(): boolean {
    return !this.#stream.closed;
  }

  lastSeq(sessionId: string): Promise<number> {
    return Promise.resolve(this.#lastSeq.get(sessionId) ?? 0);
  }

  ping(): Promise<void> {
    return this.#stream.closed ? Promise.reject(new QueueUnavailableError('the queue is closed')) : Promise.resolve();
  }

  close(): Promise<void> {
    this.#stream.close();
    return Promise.resolve();
  }

  /** Drops settled entries past the retention from the front; an unsettled one keeps those after it. */
  #forgetSettled(): void {
    const log = this.#stream.log;
    const oldest = this.#now() - this.#settledRetentionMs;
    let drop = 0;
    while (drop < log.length && (log[drop]?.settledAt ?? Infinity) < oldest) drop += 1;
    if (drop > 0) log.splice(0, drop);
  }

  #forgetOldIds(): void {
    const oldest = this.#now() - this.#duplicateWindowMs;
    // Map iteration follows insertion order, which is publish order.
    for (const [key, { at }] of this.#seen) {
      if (at >= oldest) break;
      this.#seen.delete(key);
    }
  }
}

export class MemoryQueueConsumer implements QueueConsumer {
  readonly #stream: MemoryStream;
  readonly #batchSize: number;
  readonly #ackWaitMs: number;

  constructor(stream: MemoryStream, options: MemoryConsumerOptions) {
    this.#stream = stream;
    this.#batchSize = options.batchSize;
    this.#ackWaitMs = options.ackWaitMs ?? 30_000;
  }

  async run(signal: AbortSignal, onBatch: (batch: readonly QueuedMessage[]) => Promise<void>): Promise<void> {
    for (;;) {
      await this.#stream.waitForReady(signal);
      if (signal.aborted || this.#stream.closed) return;
      const entries = this.#stream.ready.splice(0, this.#batchSize);
      await onBatch(entries.map((entry) => this.#deliver(entry)));
    }
  }

  pending(): Promise<number> {
    return Promise.resolve(this.#stream.ready.length + this.#stream.unsettled);
  }

  #deliver(entry: Entry): QueuedMessage {
    const stream = this.#stream;
    entry.deliveries += 1;
    stream.unsettled += 1;
    let settled = false;
    // Returns whether this call settled the delivery; later calls (or a late ack after the ack wait) do nothing.
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      stream.unsettled -= 1;
      stream.cancel(ackWait);
      return true;
    };
    const redeliver = (delayMs: number) => {
      if (settle() && !stream.closed) stream.later(delayMs, () => stream.push(entry));
    };
    const finish = () => {
      if (settle()) entry.settledAt = stream.now();
    };
    const ackWait = stream.later(this.#ackWaitMs, () => redeliver(0));
    return {
      data: entry.data,
      headers: entry.headers,
      deliveryCount: entry.deliveries,
      ack: () => finish(),
      nak: (delayMs = 0) => redeliver(delayMs),
      term: () => finish(),
    };
  }
}
