import { JetStreamQueueConsumer, sessionEventStream, type StreamOptions } from '@chat/jetstream';
import type { Logger } from '@chat/telemetry';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DeadLetterStore } from './dead-letters.ts';
import { EndpointWorker } from './endpoint-worker.ts';
import type { WebhookEndpoint } from './webhook-endpoints.ts';
import { fromMessageStream, fromSessionEventStream } from './webhook-event.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

export interface WebhookDispatcherOptions {
  nc: NatsConnection;
  /** The message stream the gateways and session-api publish to; the session event stream is named after it. */
  queue: StreamOptions;
  endpoints: readonly WebhookEndpoint[];
  /** Durable consumer `<prefix>_<endpoint id>` per endpoint on each stream; every replica of this service shares them. */
  consumerPrefix: string;
  deadLetters: DeadLetterStore;
  metrics: WebhookMetrics;
  logger: Logger;
}

const SESSION_EVENT_TYPES = new Set(['session.closed', 'member.removed', 'member.unread_offline']);

/**
 * Per endpoint, one worker on the message stream (message.created) and one on the session event
 * stream (the rest), each only when the endpoint takes such events; started and stopped together
 * (a lifecycle part). The caller owns the connection.
 */
export class WebhookDispatcher {
  readonly name = 'webhook-dispatcher';
  readonly #options: WebhookDispatcherOptions;
  readonly #controller = new AbortController();
  #running: Promise<void>[] = [];

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { queue, endpoints } = this.#options;
    for (const endpoint of endpoints) {
      if (endpoint.events.includes('message.created')) await this.#startWorker(endpoint, queue, fromMessageStream);
      if (endpoint.events.some((type) => SESSION_EVENT_TYPES.has(type))) await this.#startWorker(endpoint, sessionEventStream(queue), fromSessionEventStream);
    }
  }

  async #startWorker(endpoint: WebhookEndpoint, stream: StreamOptions, decode: typeof fromMessageStream): Promise<void> {
    const { nc, consumerPrefix, deadLetters, logger, metrics } = this.#options;
    const consumer = await JetStreamQueueConsumer.create(nc, {
      ...stream,
      consumer: `${consumerPrefix}_${endpoint.id}`,
      batchSize: 16,
      // A new endpoint hears what happens from now on, not the stream's last seven days.
      startAt: 'new',
      onError: (error) => logger.warn({ err: error, endpoint: endpoint.id, stream: stream.stream }, 'webhook consumer failed; retrying'),
    });
    const worker = new EndpointWorker({ endpoint, consumer, decode, deadLetters, metrics, logger });
    this.#running.push(worker.run(this.#controller.signal));
  }

  /** Stops taking events; an attempt in flight finishes (its ack or nak lands) before this resolves. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await Promise.allSettled(this.#running);
  }
}
