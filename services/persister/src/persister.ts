import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatStore, DeadLetterReason, DeadLetterSink, NewDeadLetter, QueueConsumer, QueuedMessage } from '@chat/core';
import { isRowRefusal, sqlState } from '@chat/db';
import { decodeQueuedMessage, type ChatMessage } from '@chat/protocol';
import { traceBatch } from '@chat/telemetry';

/** The subset of a pino logger the persister uses. */
export interface PersisterLogger {
  debug(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** Optional instruments; the embedded mode may leave them out. */
export interface PersisterMetrics {
  batchWritten(size: number, inserted: number): void;
  /** Seconds from each message's timestamp to its row being committed. */
  lag(seconds: number): void;
  /** A message went to the dead-letter store. */
  deadLettered?(reason: DeadLetterReason): void;
}

export interface PersisterDeps {
  consumer: QueueConsumer;
  store: Pick<ChatStore, 'insertMessages'>;
  /** Where a message that can never be written goes; it is acknowledged only once recorded there. */
  deadLetters: DeadLetterSink;
  logger: PersisterLogger;
  metrics?: PersisterMetrics;
  /** First redelivery delay after a failed write; doubles per delivery up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Deliveries of a row the database refuses before it becomes a dead letter (default 5). */
  maxAttempts?: number;
  now?: () => number;
}

interface Valid {
  item: QueuedMessage;
  message: ChatMessage;
}

interface Refusal {
  entry: Valid;
  error: unknown;
}

interface PendingDeadLetter {
  item: QueuedMessage;
  letter: NewDeadLetter;
}

export class PersistFailedError extends Error {
  override readonly name = 'PersistFailedError';
}

/**
 * Drains the queue into the store: each batch is validated, written with one multi-row insert,
 * and acknowledged only after the commit. A row the database refuses is isolated by splitting the
 * batch, so the rest is written; it is retried on later deliveries, then kept in the dead-letter
 * store, as is a payload that is not a chat message. A message is acknowledged only once it is a
 * row or a dead letter; a failed write hands it back with a delay, so nothing is lost and nothing
 * blocks for good.
 */
export class Persister {
  readonly #consumer: QueueConsumer;
  readonly #store: Pick<ChatStore, 'insertMessages'>;
  readonly #deadLetters: DeadLetterSink;
  readonly #logger: PersisterLogger;
  readonly #metrics: PersisterMetrics | undefined;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #maxAttempts: number;
  readonly #now: () => number;
  #lastFailure: unknown;

  constructor(deps: PersisterDeps) {
    this.#consumer = deps.consumer;
    this.#store = deps.store;
    this.#deadLetters = deps.deadLetters;
    this.#logger = deps.logger;
    this.#metrics = deps.metrics;
    this.#retryDelayMs = deps.retryDelayMs ?? 1_000;
    this.#maxRetryDelayMs = deps.maxRetryDelayMs ?? 30_000;
    this.#maxAttempts = deps.maxAttempts ?? 5;
    this.#now = deps.now ?? Date.now;
  }

  /** Runs until the signal aborts; the batch in hand is finished (or handed back) first. */
  async run(signal: AbortSignal): Promise<void> {
    await this.#consumer.run(signal, (batch) => this.#handle(batch, signal));
  }

  /** Rejects while the latest write failed, for readiness. */
  check(): Promise<void> {
    if (this.#lastFailure === undefined) return Promise.resolve();
    return Promise.reject(new PersistFailedError('the latest write to the database failed', { cause: this.#lastFailure }));
  }

  async #handle(batch: readonly QueuedMessage[], signal: AbortSignal): Promise<void> {
    const valid: Valid[] = [];
    const dead: PendingDeadLetter[] = [];
    for (const item of batch) {
      const decoded = decodeQueuedMessage(item.data);
      if (decoded.ok) valid.push({ item, message: decoded.message });
      else dead.push(this.#letter(item, 'invalid_payload', decoded.problem, decoded.ids));
    }
    const written = new Set<Valid>();
    const refused: Refusal[] = [];
    let outage: unknown;
    try {
      await this.#writeIsolating(valid, written, refused);
      // A batch with nothing to insert wrote nothing: it says nothing about the database.
      if (valid.length > 0) this.#lastFailure = undefined;
    } catch (error) {
      outage = error;
    }
    if (outage !== undefined) {
      // The database could not run the statement at all: everything not written goes back.
      this.#lastFailure = outage;
      const unwritten = valid.filter((entry) => !written.has(entry));
      const delayMs = this.#retryDelay(unwritten.map(({ item }) => item));
      for (const { item } of unwritten) item.nak(delayMs);
      this.#logger.error({ error: summarize(outage), messages: unwritten.length, retryInMs: delayMs }, 'writing a batch failed; it will be redelivered');
    } else {
      for (const refusal of refused) this.#retryOrBury(refusal, dead);
    }
    await this.#bury(dead);
    // Pause before taking more, or the next batches would fail and bounce at once.
    if (outage !== undefined) await sleep(this.#retryDelay(batch), undefined, { signal }).catch(() => undefined);
  }

  /**
   * Writes `part` with one insert; when the database refuses a row, splits it in halves until the
   * refused rows stand alone, so every other row is still written. An outage error propagates.
   */
  async #writeIsolating(part: readonly Valid[], written: Set<Valid>, refused: Refusal[]): Promise<void> {
    if (part.length === 0) return;
    try {
      await this.#write(part);
    } catch (error) {
      if (!isRowRefusal(error)) throw error;
      const [only] = part;
      if (part.length === 1 && only !== undefined) {
        refused.push({ entry: only, error });
        return;
      }
      const middle = Math.ceil(part.length / 2);
      await this.#writeIsolating(part.slice(0, middle), written, refused);
      await this.#writeIsolating(part.slice(middle), written, refused);
      return;
    }
    for (const entry of part) written.add(entry);
  }

  async #write(part: readonly Valid[]): Promise<void> {
    // One `persist` span per message, a child of the send span carried in its queue headers;
    // the store's own client span (timed by the backend's port wrapper) sits under the batch span.
    const inserted = await traceBatch('persist', () => part.map(({ item }) => item.headers), () => this.#store.insertMessages(part.map(({ message }) => message)), {
      'messaging.system': 'nats',
    });
    for (const { item } of part) item.ack();
    const now = this.#now();
    this.#metrics?.batchWritten(part.length, inserted);
    for (const { message } of part) this.#metrics?.lag(Math.max(0, now - Date.parse(message.timestamp)) / 1000);
    this.#logger.debug({ messages: part.length, inserted }, 'batch written');
  }

  /** A refused row gets more deliveries (a constraint may be fixed meanwhile), then becomes a dead letter. */
  #retryOrBury({ entry, error }: Refusal, dead: PendingDeadLetter[]): void {
    const { item, message } = entry;
    const reason = `the database refused it: ${summarize(error).message}`;
    if (item.deliveryCount < this.#maxAttempts) {
      const delayMs = this.#retryDelay([item]);
      item.nak(delayMs);
      this.#logger.warn({ ...identify(message), deliveryCount: item.deliveryCount, reason, retryInMs: delayMs }, 'the database refused a message; it will be retried');
      return;
    }
    const code = sqlState(error);
    dead.push(this.#letter(item, 'refused', reason, { id: message.id, sessionId: message.sessionId, seq: message.seq }, code));
  }

  #letter(item: QueuedMessage, reason: DeadLetterReason, error: string, ids: { id?: string; sessionId?: string; seq?: number }, errorCode?: string): PendingDeadLetter {
    const letter: NewDeadLetter = {
      payload: item.data,
      reason,
      error,
      attempts: item.deliveryCount,
      failedAt: new Date(this.#now()).toISOString(),
      ...(ids.id === undefined ? {} : { messageId: ids.id }),
      ...(ids.sessionId === undefined ? {} : { sessionId: ids.sessionId }),
      ...(ids.seq === undefined ? {} : { seq: ids.seq }),
      ...(errorCode === undefined ? {} : { errorCode }),
    };
    return { item, letter };
  }

  /** Acknowledges each message once its dead letter is durable; one that cannot be recorded stays in the queue. */
  async #bury(dead: readonly PendingDeadLetter[]): Promise<void> {
    for (const { item, letter } of dead) {
      const ids = { id: letter.messageId, sessionId: letter.sessionId, seq: letter.seq, deliveryCount: item.deliveryCount, reason: letter.error };
      try {
        await this.#deadLetters.add(letter);
      } catch (error) {
        this.#lastFailure = error;
        const delayMs = this.#retryDelay([item]);
        item.nak(delayMs);
        this.#logger.error({ ...ids, error: summarize(error), retryInMs: delayMs }, 'recording a dead letter failed; the message will be redelivered');
        continue;
      }
      this.#lastFailure = undefined;
      item.ack();
      this.#metrics?.deadLettered?.(letter.reason);
      this.#logger.error({ ...ids, deadLetter: letter.reason }, 'a message that can never be stored was kept as a dead letter');
    }
  }

  #retryDelay(items: readonly QueuedMessage[]): number {
    const deliveries = Math.max(1, ...items.map((item) => item.deliveryCount));
    return Math.min(this.#maxRetryDelayMs, this.#retryDelayMs * 2 ** Math.min(deliveries - 1, 16));
  }
}

/**
 * Message and code only: a database error's detail can quote the failing row ("Failing row
 * contains ..."), and rows carry message bodies, which are never logged.
 */
function summarize(error: unknown): { message: string; code?: string } {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? { message, code } : { message };
}

/** The ids of a message, never its body or metadata. */
function identify(message: ChatMessage): { id: string; sessionId: string; seq: number } {
  return { id: message.id, sessionId: message.sessionId, seq: message.seq };
}
