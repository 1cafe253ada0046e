/**
 * Every metric the services record, in one place. Names are what Prometheus shows: the unit
 * is part of the name (`_seconds`, `_bytes`), counters end in `_total`, and all durations are
 * in seconds. The dashboards may only query names listed here (a test checks it).
 */

/** `summary` only for a service that renders its own exposition (no OpenTelemetry instrument has it). */
export type MetricKind = 'counter' | 'upDownCounter' | 'histogram' | 'gauge' | 'observableGauge' | 'observableCounter' | 'summary';

export interface MetricSpec {
  readonly name: string;
  readonly kind: MetricKind;
  /** UCUM unit as OpenTelemetry expects it: `s`, `By`, or a `{annotation}` for counts. */
  readonly unit: string;
  readonly description: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
}

/** Seconds, from 1 ms to 10 s: request/ack and delivery latencies. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Seconds, from 0.5 ms: single Redis/NATS/PostgreSQL calls are usually sub-millisecond. */
const DEPENDENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;
/** Seconds, up to 2 minutes: a backlog after an outage drains slowly. */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000] as const;

export const METRIC_CATALOGUE = {
  connectionsOpen: {
    name: 'chat_connections_open',
    kind: 'upDownCounter',
    unit: '{connection}',
    description: 'WebSocket connections currently open on this gateway.',
    labels: ['route'],
  },
  connects: {
    name: 'chat_connects_total',
    kind: 'counter',
    unit: '{connection}',
    description: 'WebSocket connections accepted (after authentication and membership checks).',
    labels: ['route'],
  },
  disconnects: {
    name: 'chat_disconnects_total',
    kind: 'counter',
    unit: '{connection}',
    description: 'WebSocket connections closed or refused, by close code.',
    labels: ['route', 'code'],
  },
  framesIn: {
    name: 'chat_frames_in_total',
    kind: 'counter',
    unit: '{frame}',
    description: 'Frames received from clients, by frame type (`invalid` when unparseable).',
    labels: ['type'],
  },
  framesOut: {
    name: 'chat_frames_out_total',
    kind: 'counter',
    unit: '{frame}',
    description: 'Frames sent to clients, by frame type.',
    labels: ['type'],
  },
  messagesAccepted: {
    name: 'chat_messages_accepted_total',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages made durable and acknowledged to the sender, by transport (ws or rest).',
    labels: ['transport'],
  },
  errors: {
    name: 'chat_errors_total',
    kind: 'counter',
    unit: '{error}',
    description: 'Errors answered to clients, by protocol error code.',
    labels: ['code'],
  },
  sendAckLatency: {
    name: 'chat_send_ack_latency_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'Time from receiving a send frame or POST to answering its ack (durable in the queue).',
    labels: ['transport'],
    buckets: LATENCY_BUCKETS,
  },
  fanoutDeliveryLatency: {
    name: 'chat_fanout_delivery_latency_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'Time from the message timestamp to writing it to a recipient socket.',
    labels: [],
    buckets: LATENCY_BUCKETS,
  },
  slowConsumerCutoffs: {
    name: 'chat_slow_consumer_cutoffs_total',
    kind: 'counter',
    unit: '{connection}',
    description: 'Connections closed because their send buffer exceeded the limit.',
    labels: [],
  },
  rateLimitHits: {
    name: 'chat_rate_limit_hits_total',
    kind: 'counter',
    unit: '{request}',
    description: 'Sends or requests refused by the rate limiter, by transport.',
    labels: ['transport'],
  },
  dependencyCallDuration: {
    name: 'chat_dependency_call_duration_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'Duration of calls to Redis, NATS and PostgreSQL, by dependency, operation and outcome (ok or error).',
    labels: ['dependency', 'operation', 'outcome'],
    buckets: DEPENDENCY_BUCKETS,
  },
  dependencyFailures: {
    name: 'chat_dependency_failures_total',
    kind: 'counter',
    unit: '{call}',
    description: 'Failed calls to Redis, NATS and PostgreSQL, by dependency and operation.',
    labels: ['dependency', 'operation'],
  },
  persisterBatchSize: {
    name: 'chat_persister_batch_size',
    kind: 'histogram',
    unit: '{message}',
    description: 'Messages per batch written by the persister.',
    labels: [],
    buckets: BATCH_BUCKETS,
  },
  messagesPersisted: {
    name: 'chat_messages_persisted_total',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages written to PostgreSQL by the persister (new rows only).',
    labels: [],
  },
  persistLag: {
    name: 'chat_persist_lag_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'Time from the message timestamp to its row being committed.',
    labels: [],
    buckets: LAG_BUCKETS,
  },
  persisterPending: {
    name: 'chat_persister_pending',
    kind: 'gauge',
    unit: '{message}',
    description: 'Messages waiting in the JetStream consumer.',
    labels: [],
  },
  deadLetters: {
    name: 'chat_dead_letters_total',
    kind: 'counter',
    unit: '{message}',
    description: 'Acknowledged messages the persister could not write and kept in the dead-letter store, by reason (invalid_payload or refused). Any is an incident.',
    labels: ['reason'],
  },
  deadLettersOpen: {
    name: 'chat_dead_letters_open',
    kind: 'gauge',
    unit: '{message}',
    description: 'Dead letters not replayed yet (read from PostgreSQL by each persister).',
    labels: [],
  },
  httpRequests: {
    name: 'chat_http_requests_total',
    kind: 'counter',
    unit: '{request}',
    description: 'HTTP requests answered, by method, route template and status code.',
    labels: ['method', 'route', 'status'],
  },
  httpRequestDuration: {
    name: 'chat_http_request_duration_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'HTTP request duration, by method, route template and status code.',
    labels: ['method', 'route', 'status'],
    buckets: LATENCY_BUCKETS,
  },
  eventLoopLag: {
    name: 'chat_eventloop_lag_seconds',
    kind: 'observableGauge',
    unit: 's',
    description: 'Event-loop delay over the last scrape interval, by statistic (p50, p99, max).',
    labels: ['stat'],
  },
  heapUsed: {
    name: 'chat_heap_used_bytes',
    kind: 'observableGauge',
    unit: 'By',
    description: 'V8 heap in use.',
    labels: [],
  },
  heapTotal: {
    name: 'chat_heap_total_bytes',
    kind: 'observableGauge',
    unit: 'By',
    description: 'V8 heap reserved.',
    labels: [],
  },
  residentMemory: {
    name: 'chat_process_resident_memory_bytes',
    kind: 'observableGauge',
    unit: 'By',
    description: 'Resident set size of the process.',
    labels: [],
  },
  memoryLimit: {
    name: 'chat_process_memory_limit_bytes',
    kind: 'observableGauge',
    unit: 'By',
    description: 'Memory the process may use: its cgroup (container) limit when it has one, else the machine total.',
    labels: [],
  },
  processCpu: {
    name: 'chat_process_cpu_seconds_total',
    kind: 'observableCounter',
    unit: 's',
    description: 'CPU time the process has used, by mode (user or system); its rate is the share of one core.',
    labels: ['cpu_mode'],
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRIC_CATALOGUE;

/**
 * The webhooks service's metrics. That service runs no OpenTelemetry SDK and renders these itself
 * on its /metrics, so they are not instruments of createChatMetrics; every one has `endpoint`.
 */
export const WEBHOOK_METRIC_CATALOGUE = {
  webhookAttempts: {
    name: 'chat_webhook_attempts_total',
    kind: 'counter',
    unit: '{attempt}',
    description: 'Delivery attempts by endpoint and outcome.',
    labels: ['endpoint', 'outcome'],
  },
  webhookRetries: {
    name: 'chat_webhook_retries_total',
    kind: 'counter',
    unit: '{attempt}',
    description: 'Attempts after the first of an event.',
    labels: ['endpoint'],
  },
  webhookDeadLetters: {
    name: 'chat_webhook_dead_letters_total',
    kind: 'counter',
    unit: '{event}',
    description: "Events given up on after the endpoint's attempts.",
    labels: ['endpoint'],
  },
  webhookReplays: {
    name: 'chat_webhook_dead_letters_replayed_total',
    kind: 'counter',
    unit: '{event}',
    description: 'Dead letters delivered by a replay.',
    labels: ['endpoint'],
  },
  webhookAttemptSeconds: {
    name: 'chat_webhook_attempt_seconds',
    kind: 'summary',
    unit: 's',
    description: 'Time of one delivery attempt.',
    labels: ['endpoint'],
  },
} as const satisfies Record<string, MetricSpec>;

/** The series names Prometheus exposes for one metric (a histogram has three, a summary two). */
export function prometheusSeries(spec: MetricSpec): string[] {
  if (spec.kind === 'histogram') return [`${spec.name}_bucket`, `${spec.name}_sum`, `${spec.name}_count`];
  if (spec.kind === 'summary') return [`${spec.name}_sum`, `${spec.name}_count`];
  return [spec.name];
}

/** Every series name the services can expose, for checking dashboards and scrapes. */
export function catalogueSeriesNames(): Set<string> {
  const specs: MetricSpec[] = [...Object.values(METRIC_CATALOGUE), ...Object.values(WEBHOOK_METRIC_CATALOGUE)];
  return new Set(specs.flatMap((spec) => prometheusSeries(spec)));
}
