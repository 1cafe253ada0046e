import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatStore, QueueConsumer, QueuedMessage } from '@chat/core';
import { chatMessageSchema, type ChatMessage } from '@chat/protocol';
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
}

export interface PersisterDeps {
  consumer: QueueConsumer;
  store: Pick<ChatStore, 'insertMessages'>;
  logger: PersisterLogger;
  metrics?: PersisterMetrics;
  /** First redelivery delay after a failed write; doubles per delivery up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  now?: () => number;
}

interface Valid {
  item: QueuedMessage;
  message: ChatMessage;
}

const decoder = new TextDecoder();

export class PersistFailedError extends Error {
  override readonly name = 'PersistFailedError';
}

/**
 * Drains the queue into the store: each batch is validated, written with one multi-row insert,
 * and acknowledged only after the commit. A message that can never be written is terminated
 * (and logged by id); a failed write hands the batch back with a delay, so nothing is lost and
 * nothing blocks for good.
 */
export class Persister {
  readonly #consumer: QueueConsumer;
  readonly #store: Pick<ChatStore, 'insertMessages'>;
  readonly #logger: PersisterLogger;
  readonly #metrics: PersisterMetrics | undefined;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #now: () => number;
  #lastFailure: unknown;

  constructor(deps: PersisterDeps) {
    this.#consumer = deps.consumer;
    this.#store = deps.store;
    this.#logger = deps.logger;
    this.#metrics = deps.metrics;
    this.#retryDelayMs = deps.retryDelayMs ?? 1_000;
    this.#maxRetryDelayMs = deps.maxRetryDelayMs ?? 30_000;
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
    const valid = batch.flatMap((item) => this.#validate(item));
    if (valid.length === 0) return;
    try {
      await this.#write(valid);
      this.#lastFailure = undefined;
    } catch (error) {
      this.#lastFailure = error;
      const delayMs = this.#retryDelay(valid);
      for (const { item } of valid) item.nak(delayMs);
      this.#logger.error({ error: summarize(error), messages: valid.length, retryInMs: delayMs }, 'writing a batch failed; it will be redelivered');
      // Pause before taking more, or the next batches would fail and bounce at once.
      await sleep(delayMs, undefined, { signal }).catch(() => undefined);
    }
  }

  async #write(valid: readonly Valid[]): Promise<void> {
    let inserted: number;
    try {
      // One `persist` span per message, a child of the send span carried in its queue headers;
      // the store's own client span (timed by the backend's port wrapper) sits under the batch span.
      inserted = await traceBatch('persist', valid.map(({ item }) => item.headers), () => this.#store.insertMessages(valid.map(({ message }) => message)), {
        'messaging.system': 'nats',
      });
    } catch (error) {
      if (!isDataError(error)) throw error;
      const [only] = valid;
      if (valid.length === 1 && only !== undefined) return this.#reject(only, error);
      // The database refused the content of some row (a NUL character, say): find it one by one.
      for (const entry of valid) await this.#write([entry]);
      return;
    }
    for (const { item } of valid) item.ack();
    const now = this.#now();
    this.#metrics?.batchWritten(valid.length, inserted);
    for (const { message } of valid) this.#metrics?.lag(Math.max(0, now - Date.parse(message.timestamp)) / 1000);
    this.#logger.debug({ messages: valid.length, inserted }, 'batch written');
  }

  #validate(item: QueuedMessage): Valid[] {
    let raw: unknown;
    try {
      raw = JSON.parse(decoder.decode(item.data));
    } catch {
      this.#drop(item, undefined, 'payload is not JSON');
      return [];
    }
    const parsed = chatMessageSchema.safeParse(raw);
    if (parsed.success) return [{ item, message: parsed.data }];
    // Paths and codes only: a zod message could quote the content.
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`).join('; ');
    this.#drop(item, raw, `payload is not a chat message (${problems})`);
    return [];
  }

  #reject({ item, message }: Valid, error: unknown): void {
    this.#drop(item, message, `the database refused it: ${summarize(error).message}`);
  }

  #drop(item: QueuedMessage, raw: unknown, reason: string): void {
    item.term(reason);
    this.#logger.warn({ ...identify(raw), deliveryCount: item.deliveryCount, reason }, 'dropping a message that can never be stored');
  }

  #retryDelay(valid: readonly Valid[]): number {
    const deliveries = Math.max(...valid.map(({ item }) => item.deliveryCount));
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

/** The ids of a payload, never its body or metadata. */
function identify(raw: unknown): { id?: unknown; sessionId?: unknown; seq?: unknown } {
  if (typeof raw !== 'object' || raw === null) return {};
  const { id, sessionId, seq } = raw as Record<string, unknown>;
  return { id, sessionId, seq };
}

/**
 * PostgreSQL's class 22 (data exception) and 23 (integrity constraint) errors depend on the
 * row, not on the database being reachable: retrying the same row can never succeed.
 */
export function isDataError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23]/.test(code);
}
