import type { QueueConsumer, QueuedMessage } from '@chat/core';
import { chatMessageSchema } from '@chat/protocol';
import type { Logger } from '@chat/telemetry';
import type { DeadLetterStore } from './dead-letters.ts';
import { deliverOnce } from './deliver-once.ts';
import { retryDelayMs } from './retry-delay.ts';
import type { WebhookEndpoint } from './webhook-endpoints.ts';
import { messageCreated } from './webhook-event.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

export interface EndpointWorkerDeps {
  endpoint: WebhookEndpoint;
  /** A durable consumer of the message stream owned by this endpoint alone, so one slow receiver holds back no other. */
  consumer: QueueConsumer;
  deadLetters: DeadLetterStore;
  metrics: WebhookMetrics;
  logger: Logger;
}

/**
 * Delivers each message of the stream to one endpoint: ack on a 2xx, otherwise redelivery by
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
    const parsed = chatMessageSchema.safeParse(parseJson(queued.data));
    if (!parsed.success) {
      logger.error({ endpoint: endpoint.id }, 'not a chat message on the stream; skipped');
      queued.term('not a chat message');
      return;
    }
    if (!endpoint.events.includes('message.created')) {
      queued.ack();
      return;
    }
    const event = messageCreated(parsed.data);
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
