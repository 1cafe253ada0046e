import { type ChatStore, type DeadLetterSink } from '@chat/core';
import { JetStreamQueueConsumer } from '@chat/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Persister, type PersisterLogger, type PersisterMetrics } from './persister.ts';

export interface PersisterWorkerOptions {
  /** One server's URL, or every server of a cluster. */
  natsServers: string | readonly string[];
  connectionName: string;
  queue: { stream: string; subjectPrefix: string; consumer: string; replicas: number; batchSize: number };
  store: Pick<ChatStore, 'insertMessages'>;
  /** With countOpen, the open dead letters are reported with the pending count. */
  deadLetters: DeadLetterSink & { countOpen?(): Promise<number> };
  logger: PersisterLogger;
  metrics?: PersisterMetrics & { pending?(count: number): void; deadLettersOpen?(count: number): void };
  /** Passed to the Persister (tests shorten them). */
  retry?: { delayMs?: number; maxDelayMs?: number; maxAttempts?: number };
}

const PENDING_INTERVAL_MS = 5_000;
/**
 * Batches written at once: while one commits, the next is inserted and the acks of the last travel,
 * so a backlog drains at the database's pace rather than one round trip at a time. Rows carry
 * their own seq and inserts skip what is stored already, so batches need no order between them.
 */
const BATCHES_IN_FLIGHT = 4;
/** A steady trickle waits this long to become one insert of many rows rather than one per message. */
const BATCH_LINGER_MS = 50;

/**
 * The persister as a long-running part over NATS: start() connects (waiting for the server if it
 * is not up yet) and runs the Persister; stop() finishes the batch in hand, then drains the connection.
 */
export class PersisterWorker {
  readonly name = 'persister';
  readonly #options: PersisterWorkerOptions;
  readonly #controller = new AbortController();
  #nats: NatsConnection | undefined;
  #consumer: JetStreamQueueConsumer | undefined;
  #persister: Persister | undefined;
  #running: Promise<void> | undefined;
  #pendingTimer: NodeJS.Timeout | undefined;

  constructor(options: PersisterWorkerOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { natsServers, connectionName, queue, store, deadLetters, logger, metrics, retry } = this.#options;
    this.#nats = await connect({ servers: typeof natsServers === 'string' ? natsServers : [...natsServers], name: connectionName, maxReconnectAttempts: -1, waitOnFirstConnect: true });
    this.#consumer = await JetStreamQueueConsumer.create(this.#nats, {
      ...queue,
      inFlight: BATCHES_IN_FLIGHT,
      lingerMs: BATCH_LINGER_MS,
      onError: (error) => logger.warn({ err: error }, 'consuming from JetStream failed; retrying'),
    });
    this.#persister = new Persister({
      consumer: this.#consumer,
      store,
      deadLetters,
      logger,
      ...(metrics === undefined ? {} : { metrics }),
      ...(retry?.delayMs === undefined ? {} : { retryDelayMs: retry.delayMs }),
      ...(retry?.maxDelayMs === undefined ? {} : { maxRetryDelayMs: retry.maxDelayMs }),
      ...(retry?.maxAttempts === undefined ? {} : { maxAttempts: retry.maxAttempts }),
    });
    this.#running = this.#persister.run(this.#controller.signal);
    this.#pendingTimer = setInterval(() => {
      void this.checkQueue().catch(() => undefined);
      void this.#reportDeadLetters();
    }, PENDING_INTERVAL_MS);
    this.#pendingTimer.unref();
  }

  /** For readiness: JetStream answers for our consumer (and the lag gauge gets a fresh value). */
  async checkQueue(): Promise<void> {
    if (this.#consumer === undefined || this.#nats === undefined || this.#nats.isClosed()) throw new Error('not connected to NATS');
    const pending = await this.#consumer.pending();
    this.#options.metrics?.pending?.(pending);
  }

  /** Refreshes the open dead letters gauge; a failed count leaves the last value (readiness reports the database). */
  async #reportDeadLetters(): Promise<void> {
    const { deadLetters, metrics } = this.#options;
    if (deadLetters.countOpen === undefined || metrics?.deadLettersOpen === undefined) return;
    try {
      metrics.deadLettersOpen(await deadLetters.countOpen());
    } catch {
      // Reported by the postgres readiness check.
    }
  }

  /** For readiness: the latest write to the database succeeded. */
  checkWrites(): Promise<void> {
    return this.#persister?.check() ?? Promise.reject(new Error('not started'));
  }

  async stop(): Promise<void> {
    clearInterval(this.#pendingTimer);
    this.#controller.abort();
    await this.#running;
    if (this.#nats !== undefined && !this.#nats.isClosed()) await this.#nats.drain();
  }
}
