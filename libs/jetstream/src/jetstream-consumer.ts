import { setTimeout as sleep } from 'node:timers/promises';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { QueueConsumer, QueuedMessage, QueueHeaders } from '@chat/core';
import { BatchPuller, type PulledMessage } from './batch-puller.ts';
import { ensureStream, type StreamOptions } from './jetstream-stream.ts';

export interface JetStreamConsumerOptions extends StreamOptions {
  /** Durable consumer name (NATS_CONSUMER); every replica of the persister shares it. */
  consumer: string;
  /** Most messages handed to one onBatch call (PERSIST_BATCH_SIZE). */
  batchSize: number;
  /** Redelivery after this long without an ack. */
  ackWaitMs?: number;
  /** Told when consuming fails and is about to be retried (NATS unreachable, consumer gone). */
  onError?: (error: unknown) => void;
  /** Where a consumer created now starts: the whole stream (default, the persister) or only what arrives next. */
  startAt?: 'all' | 'new';
  /**
   * Batches handed to onBatch at once (default 1: each batch finishes before the next starts).
   * More keeps the database busy while acks and the next pull travel; the handler must then not
   * rely on the order of batches.
   */
  inFlight?: number;
  /**
   * How long messages may collect on the server (default 0: each is delivered as it arrives).
   * With it, messages are fetched by no-wait pulls, and after one that came back short the next
   * waits this long: a steady trickle becomes fewer, larger batches, and travels in bursts.
   */
  lingerMs?: number;
}

const DEFAULT_ACK_WAIT_MS = 30_000;
const RETRY_DELAY_MS = 1_000;
/**
 * How long one pull request lives. The client finds a lost pull (the consumer's leader moved to
 * another server of a cluster) only by two missed idle heartbeats, sent every half of this: with
 * the library's 30 s the persister would stand still for half a minute after a leader change.
 */
const PULL_EXPIRES_MS = 5_000;
/** With lingerMs: a no-wait pull unanswered this long is made again (its consumer's leader moved). */
const LOST_PULL_MS = 2_000;
/** With lingerMs: the longest pause between pulls while the consumer stays empty. */
const MAX_IDLE_POLL_MS = 200;

/** Where batches come from: a standing pull (without linger) or no-wait pulls in bursts (with it). */
interface MessageSource {
  /** Waits for at least one message and takes what has arrived, up to max; empty once stopped. */
  take(max: number): Promise<PulledMessage[]>;
  /** Stops pulling and wakes a waiting take(); what is buffered stays for stop(). */
  interrupt(): void;
  /** Stops pulling and returns every message received but not taken. */
  stop(): Promise<PulledMessage[]>;
}

/**
 * The persister's side of the queue: a durable pull consumer with explicit acks. Each batch is
 * what has arrived, up to batchSize, so a quiet stream is written at once and a busy one in bulk.
 */
export class JetStreamQueueConsumer implements QueueConsumer {
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #options: JetStreamConsumerOptions;
  #consumer: Consumer | undefined;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, options: JetStreamConsumerOptions) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#options = options;
  }

  /** Ensures the stream and the durable consumer exist with our settings. */
  static async create(nc: NatsConnection, options: JetStreamConsumerOptions): Promise<JetStreamQueueConsumer> {
    const consumer = new JetStreamQueueConsumer(nc, await jetstreamManager(nc), options);
    await consumer.#ensure();
    return consumer;
  }

  async run(signal: AbortSignal, onBatch: (batch: readonly QueuedMessage[]) => Promise<void>): Promise<void> {
    const stopped = () => signal.aborted;
    while (!stopped()) {
      try {
        await this.#consume(signal, onBatch);
      } catch (error) {
        if (stopped()) break;
        this.#options.onError?.(error);
        this.#consumer = undefined;
        await sleep(RETRY_DELAY_MS, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  async pending(): Promise<number> {
    const info = await this.#jsm.consumers.info(this.#options.stream, this.#options.consumer);
    return info.num_pending + info.num_ack_pending;
  }

  async #consume(signal: AbortSignal, onBatch: (batch: readonly QueuedMessage[]) => Promise<void>): Promise<void> {
    this.#consumer ??= await this.#ensure();
    const { batchSize, inFlight = 1, lingerMs = 0 } = this.#options;
    // Enough is pulled to fill every batch in flight; the rest stays on the server.
    const source: MessageSource =
      lingerMs > 0
        ? new BatchPuller(this.#nc, { stream: this.#options.stream, consumer: this.#options.consumer, highWater: batchSize * inFlight, pullSize: batchSize, pollMs: lingerMs, maxPollMs: Math.max(lingerMs, MAX_IDLE_POLL_MS), requestTimeoutMs: LOST_PULL_MS })
        : new MessagePump(await this.#consumer.consume({ max_messages: batchSize * inFlight, expires: PULL_EXPIRES_MS }), batchSize * inFlight);
    const stop = () => source.interrupt();
    signal.addEventListener('abort', stop, { once: true });
    // Aborted while the consumer was being set up: the listener above will never fire.
    if (signal.aborted) stop();
    const running = new Set<Promise<void>>();
    const failures: unknown[] = [];
    try {
      for (let batch = await source.take(batchSize); batch.length > 0 && !signal.aborted; batch = await source.take(batchSize)) {
        const handled: Promise<void> = onBatch(batch.map(toQueuedMessage)).then(
          () => void running.delete(handled),
          (error: unknown) => {
            running.delete(handled);
            failures.push(error);
          },
        );
        running.add(handled);
        while (running.size >= inFlight) await Promise.race(running);
        if (failures.length > 0) throw failures[0];
      }
    } finally {
      // Every batch handed out finishes (acknowledged or handed back) before the pull stops.
      await Promise.all(running);
      signal.removeEventListener('abort', stop);
      // What was fetched but not handled goes back at once, rather than to another replica after ack_wait.
      for (const message of await source.stop()) message.nak();
    }
  }

  async #ensure(): Promise<Consumer> {
    const { stream, consumer } = this.#options;
    await ensureStream(this.#jsm, this.#options);
    const wanted: Partial<ConsumerConfig> = {
      ack_wait: nanos(this.#options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      max_ack_pending: Math.max(1_000, this.#options.batchSize * 20),
      filter_subject: `${this.#options.subjectPrefix}.>`,
    };
    try {
      const { config } = await this.#jsm.consumers.info(stream, consumer);
      const differs = Object.entries(wanted).some(([key, value]) => config[key as keyof ConsumerConfig] !== value);
      if (differs) await this.#jsm.consumers.update(stream, consumer, wanted);
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)) throw error;
      await this.#jsm.consumers.add(stream, { ...wanted, durable_name: consumer, ack_policy: AckPolicy.Explicit, deliver_policy: this.#options.startAt === 'new' ? DeliverPolicy.New : DeliverPolicy.All });
    }
    return jetstream(this.#nc).consumers.get(stream, consumer);
  }
}

/**
 * Reads the consume iterator into a buffer of at most `highWater` messages. Pausing the reads
 * is what holds back further pulls (the client issues them as the iterator advances), so a slow
 * database keeps messages on the server, where other replicas can take them.
 */
class MessagePump implements MessageSource {
  readonly #buffer: JsMsg[] = [];
  readonly #messages: ConsumerMessages;
  readonly #highWater: number;
  readonly #finished: Promise<void>;
  #stopping = false;
  #closed: Promise<unknown> | undefined;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(messages: ConsumerMessages, highWater: number) {
    this.#messages = messages;
    this.#highWater = highWater;
    this.#finished = this.#run();
  }

  /** Waits for at least one message and takes what has arrived, up to max; empty once the stream ended. */
  async take(max: number): Promise<PulledMessage[]> {
    while (this.#buffer.length === 0 && !this.#ended) await this.#sleep();
    // Let messages that arrived in the same read reach the buffer, so a burst becomes one batch.
    if (this.#buffer.length < max && !this.#ended) await new Promise((resolve) => setImmediate(resolve));
    if (this.#buffer.length === 0 && this.#error !== undefined) throw this.#error;
    const batch = this.#buffer.splice(0, max).map(fromJsMsg);
    this.#notify();
    return batch;
  }

  interrupt(): void {
    if (this.#closed !== undefined) return;
    // close() completes only once the iterator reaches the stop it queues, which #run drives.
    this.#closed = this.#messages.close();
    this.#stopping = true;
    this.#notify();
  }

  async stop(): Promise<PulledMessage[]> {
    this.interrupt();
    await this.#finished;
    await this.#closed;
    return this.#buffer.splice(0).map(fromJsMsg);
  }

  async #run(): Promise<void> {
    try {
      for await (const message of this.#messages) {
        this.#buffer.push(message);
        this.#notify();
        while (this.#buffer.length >= this.#highWater && !this.#stopping) await this.#sleep();
      }
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error));
    } finally {
      this.#ended = true;
      this.#notify();
    }
  }

  #sleep(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/*
 * Classes, not object literals with getters: a literal's getter is a new closure per message,
 * which put each message's object in dictionary mode, and those (with the payloads they hold)
 * survived every scavenge until a full collection.
 */

function fromJsMsg(message: JsMsg): PulledMessage {
  return new PulledJsMsg(message);
}

/** What a delivered message answers JetStream with, whichever form it came in. */
interface Answers {
  ack(): void;
  nak(delayMs?: number): void;
  term(): void;
}

/** Passes a message's answers on to the form it was delivered in. */
abstract class ForwardedAnswers {
  readonly #answers: Answers;

  protected constructor(answers: Answers) {
    this.#answers = answers;
  }

  ack(): void {
    this.#answers.ack();
  }

  nak(delayMs?: number): void {
    this.#answers.nak(delayMs);
  }

  /** Without the reason: servers before 2.10 ignore `+TERM <reason>` and would redeliver; the caller logs it. */
  term(): void {
    this.#answers.term();
  }
}

class PulledJsMsg extends ForwardedAnswers implements PulledMessage {
  readonly data: Uint8Array;
  readonly #message: JsMsg;

  constructor(message: JsMsg) {
    super(message);
    this.data = message.data;
    this.#message = message;
  }

  get headers(): MsgHdrs | undefined {
    return this.#message.headers;
  }

  get deliveryCount(): number {
    return this.#message.info.deliveryCount;
  }
}

function toQueuedMessage(message: PulledMessage): QueuedMessage {
  return new PulledQueuedMessage(message);
}

class PulledQueuedMessage extends ForwardedAnswers implements QueuedMessage {
  readonly data: Uint8Array;
  readonly deliveryCount: number;
  readonly #message: PulledMessage;
  #headers: QueueHeaders | undefined;

  constructor(message: PulledMessage) {
    super(message);
    this.data = message.data;
    this.deliveryCount = message.deliveryCount;
    this.#message = message;
  }

  /** Copied only when read: tracing reads them, and it may be off. */
  get headers(): QueueHeaders {
    return (this.#headers ??= fromNatsHeaders(this.#message.headers));
  }
}

function fromNatsHeaders(natsHeaders: MsgHdrs | undefined): QueueHeaders {
  const result: QueueHeaders = {};
  if (natsHeaders === undefined) return result;
  for (const key of natsHeaders.keys()) result[key] = natsHeaders.get(key);
  return result;
}
