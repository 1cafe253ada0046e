import { type ChatStore, type DeadLetterSink, type QueueConsumer } from '@chat/core';
import { JetStreamQueueConsumer } from '@chat/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Persister, type PersisterLogger, type PersisterMetrics } from './persister.ts';

/** Connects to NATS itself and drains the connection on stop (the tests' clusters). */
export interface OwnConnectionOptions {
  /** One server's URL, or every server of a cluster. */
  natsServers: string | readonly string[];
  connectionName: string;
  queue: { stream: string; subjectPrefix: string; consumer: string; replicas: number; batchSize: number };
}

/** Takes the consumer from the composition's backend, which owns and closes the connection (the service's main). */
export interface GivenConsumerOptions {
  consumer: () => Promise<QueueConsumer>;
}

export type PersisterWorkerOptions = (OwnConnectionOptions | GivenConsumerOptions) & {
  store: Pick<ChatStore, 'insertMessages'>;
  /** With countOpen, the open dead letters are reported with the pending count. */
  deadLetters: DeadLetterSink & { countOpen?(): Promise<number> };
  logger: PersisterLogger;
  metrics?: PersisterMetrics & { pending?(count: number): void; deadLettersOpen?(count: number): void };
  /** Passed to the Persister (tests shorten them). */
  retry?: { delayMs?: number; maxDelayMs?: number; maxAttempts?: number };
};

const PENDING_INTERVAL_MS = 5_000;
/**
 * The consumer's tuning, also given to the composition's consumer. inFlight: batches written at once:
 * while one commits, the next is inserted and the acks of the last travel, so a backlog drains at the
 * database's pace rather than one round trip at a time. Rows carry their own seq and inserts skip what
 * is stored already, so batches need no order between them. lingerMs: after a pull that came back
 * short, the next waits this long, so a steady trickle becomes one insert of many rows rather than
 * one per message, and reaches the persister in one burst rather than one write per message.
 */
export const PERSISTER_CONSUMER_TUNING = { inFlight: 4, lingerMs: 50 } as const;

/**
 * The persister as a long-running part over NATS: start() connects (waiting for the server if it
 * is not up yet) and runs the Persister; stop() finishes the batch in hand, then drains the connection.
 */
export class PersisterWorker {
  readonly name = 'persister';
  readonly #options: PersisterWorkerOptions;
  readonly #controller = new AbortController();
  #nats: NatsConnection | undefined;
  #consumer: QueueConsumer | undefined;
  #persister: Persister | undefined;
  #running: Promise<void> | undefined;
  #pendingTimer: NodeJS.Timeout | undefined;

  constructor(options: PersisterWorkerOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { store, deadLetters, logger, metrics, retry } = this.#options;
    this.#consumer = await this.#openConsumer();
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

  async #openConsumer(): Promise<QueueConsumer> {
    const options = this.#options;
    if ('consumer' in options) return options.consumer();
    const { natsServers, connectionName, queue, logger } = options;
    this.#nats = await connect({ servers: typeof natsServers === 'string' ? natsServers : [...natsServers], name: connectionName, maxReconnectAttempts: -1, waitOnFirstConnect: true });
    return JetStreamQueueConsumer.create(this.#nats, {
      ...queue,
      ...PERSISTER_CONSUMER_TUNING,
      onError: (error) => logger.warn({ err: error }, 'consuming from JetStream failed; retrying'),
    });
  }

  /** For readiness: JetStream answers for our consumer (and the lag gauge gets a fresh value). */
  async checkQueue(): Promise<void> {
    // A given consumer's connection is the backend's; a closed one fails pending() instead.
    if (this.#consumer === undefined || this.#nats?.isClosed() === true) throw new Error('not connected to NATS');
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
