import type { QueueConsumer, QueuedMessage } from '@chat/core';
import type { Logger } from '@chat/telemetry';
import type { DeadLetterStore } from './dead-letters.ts';
import { deliverOnce } from './deliver-once.ts';
import { retryDelayMs } from './retry-delay.ts';
import type { WebhookEndpoint } from './webhook-endpoints.ts';
import type { WebhookEvent } from './webhook-event.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

export interface EndpointWorkerDeps {
  endpoint: WebhookEndpoint;
  /** A durable consumer (of the message stream or the session event stream) owned by this endpoint alone, so one slow receiver holds back no other. */
  consumer: QueueConsumer;
  /** The stream's payload as an event; undefined for one that is not (it is skipped). */
  decode: (payload: unknown) => WebhookEvent | undefined;
  deadLetters: DeadLetterStore;
  metrics: WebhookMetrics;
  logger: Logger;
}

/**
 * Delivers each event of a stream to one endpoint: ack on a 2xx, otherwise redelivery by
 * JetStream after a growing delay, and after `maxAttempts` a dead letter. The queue, not this
 * process, holds what is pending, so a crash or restart loses nothing.
 */
export class EndpointWorker {
  readonly #deps: EndpointWorkerDeps;

  constructor(deps: EndpointWorkerDeps) {
    this.#deps = deps;
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#deps.consumer.run(signal, async (batch) => {
      await Promise.all(batch.map((message) => this.#handle(message)));
    });
  }

  async #handle(queued: QueuedMessage): Promise<void> {
    const { endpoint, metrics, logger } = this.#deps;
    const event = this.#deps.decode(parseJson(queued.data));
    if (event === undefined) {
      logger.error({ endpoint: endpoint.id }, 'not an event on the stream; skipped');
      queued.term('not an event');
      return;
    }
    if (!endpoint.events.includes(event.type)) {
      queued.ack();
      return;
    }
    if (queued.deliveryCount > 1) metrics.retried(endpoint.id);
    const body = JSON.stringify(event);
    const outcome = await deliverOnce(endpoint, event.id, body);
    metrics.attempt(endpoint.id, outcome.delivered ? 'delivered' : 'failed', outcome.seconds);
    if (outcome.delivered) {
      queued.ack();
      return;
    }
    const attempts = queued.deliveryCount;
    if (attempts < endpoint.maxAttempts) {
      queued.nak(retryDelayMs(attempts, endpoint.retryBaseMs, endpoint.retryMaxMs));
      return;
    }
    try {
      await this.#deps.deadLetters.add({
        endpointId: endpoint.id,
        eventId: event.id,
        type: event.type,
        attempts,
        lastError: outcome.error,
        ...(outcome.status === undefined ? {} : { lastStatus: outcome.status }),
        failedAt: new Date().toISOString(),
        body,
      });
    } catch (error) {
      // Not recorded: keep it on the queue rather than lose it.
      logger.warn({ err: error, endpoint: endpoint.id, eventId: event.id }, 'dead letter not stored; will retry');
      queued.nak(endpoint.retryMaxMs);
      return;
    }
    metrics.deadLettered(endpoint.id);
    logger.warn({ endpoint: endpoint.id, eventId: event.id, attempts, error: outcome.error }, 'webhook dead-lettered');
    queued.ack();
  }
}

function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
