import { WEBHOOK_METRIC_CATALOGUE, type MetricSpec } from '@chat/telemetry';

const c = WEBHOOK_METRIC_CATALOGUE;

/** The webhook counters of the telemetry catalogue, served as Prometheus text on this service's /metrics. */
export class WebhookMetrics {
  readonly #deliveries = new Map<string, number>();
  readonly #deadLetters = new Map<string, number>();
  readonly #retries = new Map<string, number>();
  readonly #replays = new Map<string, number>();
  readonly #seconds = new Map<string, { sum: number; count: number }>();

  attempt(endpointId: string, outcome: 'delivered' | 'failed', seconds: number): void {
    const key = `endpoint="${endpointId}",outcome="${outcome}"`;
    this.#deliveries.set(key, (this.#deliveries.get(key) ?? 0) + 1);
    const timing = this.#seconds.get(endpointId) ?? { sum: 0, count: 0 };
    this.#seconds.set(endpointId, { sum: timing.sum + seconds, count: timing.count + 1 });
  }

  /** An attempt after the first of an event. */
  retried(endpointId: string): void {
    this.#retries.set(endpointId, (this.#retries.get(endpointId) ?? 0) + 1);
  }

  /** A dead letter delivered by an admin's replay. */
  replayed(endpointId: string): void {
    this.#replays.set(endpointId, (this.#replays.get(endpointId) ?? 0) + 1);
  }

  deadLettered(endpointId: string): void {
    this.#deadLetters.set(endpointId, (this.#deadLetters.get(endpointId) ?? 0) + 1);
  }

  text(): string {
    const lines = [
      ...family(c.webhookAttempts, [...this.#deliveries].map(([labels, value]) => `${c.webhookAttempts.name}{${labels}} ${value}`)),
      ...family(c.webhookRetries, perEndpoint(c.webhookRetries, this.#retries)),
      ...family(c.webhookDeadLetters, perEndpoint(c.webhookDeadLetters, this.#deadLetters)),
      ...family(c.webhookReplays, perEndpoint(c.webhookReplays, this.#replays)),
      ...family(
        c.webhookAttemptSeconds,
        [...this.#seconds].flatMap(([id, { sum, count }]) => [`${c.webhookAttemptSeconds.name}_sum{endpoint="${id}"} ${sum}`, `${c.webhookAttemptSeconds.name}_count{endpoint="${id}"} ${count}`]),
      ),
    ];
    return `${lines.join('\n')}\n`;
  }
}

/** A metric's HELP and TYPE lines, as the catalogue declares it, then its samples. */
function family(spec: MetricSpec, samples: readonly string[]): string[] {
  return [`# HELP ${spec.name} ${spec.description}`, `# TYPE ${spec.name} ${spec.kind}`, ...samples];
}

function perEndpoint(spec: MetricSpec, counts: ReadonlyMap<string, number>): string[] {
  return [...counts].map(([id, value]) => `${spec.name}{endpoint="${id}"} ${value}`);
}
