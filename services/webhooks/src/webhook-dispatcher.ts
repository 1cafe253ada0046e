import { JetStreamQueueConsumer, type StreamOptions } from '@chat/core';
import type { Logger } from '@chat/telemetry';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DeadLetterStore } from './dead-letters.ts';
import { EndpointWorker } from './endpoint-worker.ts';
import type { WebhookEndpoint } from './webhook-endpoints.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

export interface WebhookDispatcherOptions {
  nc: NatsConnection;
  /** The message stream the gateways and session-api publish to. */
  queue: StreamOptions;
  endpoints: readonly WebhookEndpoint[];
  /** Durable consumer `<prefix>_<endpoint id>` per endpoint; every replica of this service shares them. */
  consumerPrefix: string;
  deadLetters: DeadLetterStore;
  metrics: WebhookMetrics;
  logger: Logger;
}

/** One worker per endpoint on the message stream, started and stopped together (a lifecycle part); the caller owns the connection. */
export class WebhookDispatcher {
  readonly name = 'webhook-dispatcher';
  readonly #options: WebhookDispatcherOptions;
  readonly #controller = new AbortController();
  #running: Promise<void>[] = [];

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { nc, queue, endpoints, consumerPrefix, deadLetters, logger } = this.#options;
    for (const endpoint of endpoints) {
      const consumer = await JetStreamQueueConsumer.create(nc, {
        ...queue,
        consumer: `${consumerPrefix}_${endpoint.id}`,
        batchSize: 16,
        // A new endpoint hears what happens from now on, not the stream's last seven days.
        startAt: 'new',
        onError: (error) => logger.warn({ err: error, endpoint: endpoint.id }, 'webhook consumer failed; retrying'),
      });
      const worker = new EndpointWorker({ endpoint, consumer, deadLetters, metrics: this.#options.metrics, logger });
      this.#running.push(worker.run(this.#controller.signal));
    }
  }

  /** Stops taking events; an attempt in flight finishes (its ack or nak lands) before this resolves. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await Promise.allSettled(this.#running);
  }
}
