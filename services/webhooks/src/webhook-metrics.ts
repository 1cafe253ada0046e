/** The webhook counters, served as Prometheus text on this service's /metrics. */
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
      '# HELP chat_webhook_attempts_total Delivery attempts by endpoint and outcome.',
      '# TYPE chat_webhook_attempts_total counter',
      ...[...this.#deliveries].map(([labels, value]) => `chat_webhook_attempts_total{${labels}} ${value}`),
      '# HELP chat_webhook_retries_total Attempts after the first of an event.',
      '# TYPE chat_webhook_retries_total counter',
      ...[...this.#retries].map(([id, value]) => `chat_webhook_retries_total{endpoint="${id}"} ${value}`),
      '# HELP chat_webhook_dead_letters_total Events given up on after the endpoint\'s attempts.',
      '# TYPE chat_webhook_dead_letters_total counter',
      ...[...this.#deadLetters].map(([id, value]) => `chat_webhook_dead_letters_total{endpoint="${id}"} ${value}`),
      '# HELP chat_webhook_dead_letters_replayed_total Dead letters delivered by a replay.',
      '# TYPE chat_webhook_dead_letters_replayed_total counter',
      ...[...this.#replays].map(([id, value]) => `chat_webhook_dead_letters_replayed_total{endpoint="${id}"} ${value}`),
      '# HELP chat_webhook_attempt_seconds Time of one delivery attempt.',
      '# TYPE chat_webhook_attempt_seconds summary',
      ...[...this.#seconds].flatMap(([id, { sum, count }]) => [`chat_webhook_attempt_seconds_sum{endpoint="${id}"} ${sum}`, `chat_webhook_attempt_seconds_count{endpoint="${id}"} ${count}`]),
    ];
    return `${lines.join('\n')}\n`;
  }
}
