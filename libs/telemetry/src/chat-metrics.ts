import { metrics as metricsApi, type Counter, type Gauge, type Histogram, type Meter, type UpDownCounter } from '@opentelemetry/api';
import { METRIC_CATALOGUE, type MetricSpec } from './metric-catalogue.ts';

export type WsRoute = 'chat' | 'status' | 'feed';
export type Transport = 'ws' | 'rest';
export type Dependency = 'redis' | 'nats' | 'postgres';

export type RouteLabels = { route: WsRoute };
export type DisconnectLabels = { route: WsRoute; code: number };
export type FrameLabels = { type: string };
export type TransportLabels = { transport: Transport };
export type ErrorLabels = { code: string };
export type DependencyCallLabels = { dependency: Dependency; operation: string; outcome: 'ok' | 'error' };
export type DependencyLabels = { dependency: Dependency; operation: string };
export type DeadLetterLabels = { reason: 'invalid_payload' | 'refused' };
export type HttpLabels = { method: string; route: string; status: number };
type NoLabels = Record<string, never>;

/** One instrument per catalogue entry; durations are recorded in seconds. */
export interface ChatMetrics {
  readonly connectionsOpen: UpDownCounter<RouteLabels>;
  readonly connects: Counter<RouteLabels>;
  readonly disconnects: Counter<DisconnectLabels>;
  readonly framesIn: Counter<FrameLabels>;
  readonly framesOut: Counter<FrameLabels>;
  readonly messagesAccepted: Counter<TransportLabels>;
  readonly errors: Counter<ErrorLabels>;
  readonly sendAckLatency: Histogram<TransportLabels>;
  readonly fanoutDeliveryLatency: Histogram<NoLabels>;
  readonly slowConsumerCutoffs: Counter<NoLabels>;
  readonly rateLimitHits: Counter<TransportLabels>;
  readonly dependencyCallDuration: Histogram<DependencyCallLabels>;
  readonly dependencyFailures: Counter<DependencyLabels>;
  readonly persisterBatchSize: Histogram<NoLabels>;
  readonly messagesPersisted: Counter<NoLabels>;
  readonly persistLag: Histogram<NoLabels>;
  readonly persisterPending: Gauge<NoLabels>;
  readonly deadLetters: Counter<DeadLetterLabels>;
  readonly deadLettersOpen: Gauge<NoLabels>;
  readonly httpRequests: Counter<HttpLabels>;
  readonly httpRequestDuration: Histogram<HttpLabels>;
}

const options = (spec: MetricSpec) => ({
  unit: spec.unit,
  description: spec.description,
  ...(spec.buckets === undefined ? {} : { advice: { explicitBucketBoundaries: [...spec.buckets] } }),
});

/** Creates every instrument of the catalogue on the given meter. */
export function createChatMetrics(meter: Meter): ChatMetrics {
  const c = METRIC_CATALOGUE;
  return {
    connectionsOpen: meter.createUpDownCounter(c.connectionsOpen.name, options(c.connectionsOpen)),
    connects: meter.createCounter(c.connects.name, options(c.connects)),
    disconnects: meter.createCounter(c.disconnects.name, options(c.disconnects)),
    framesIn: meter.createCounter(c.framesIn.name, options(c.framesIn)),
    framesOut: meter.createCounter(c.framesOut.name, options(c.framesOut)),
    messagesAccepted: meter.createCounter(c.messagesAccepted.name, options(c.messagesAccepted)),
    errors: meter.createCounter(c.errors.name, options(c.errors)),
    sendAckLatency: meter.createHistogram(c.sendAckLatency.name, options(c.sendAckLatency)),
    fanoutDeliveryLatency: meter.createHistogram(c.fanoutDeliveryLatency.name, options(c.fanoutDeliveryLatency)),
    slowConsumerCutoffs: meter.createCounter(c.slowConsumerCutoffs.name, options(c.slowConsumerCutoffs)),
    rateLimitHits: meter.createCounter(c.rateLimitHits.name, options(c.rateLimitHits)),
    dependencyCallDuration: meter.createHistogram(c.dependencyCallDuration.name, options(c.dependencyCallDuration)),
    dependencyFailures: meter.createCounter(c.dependencyFailures.name, options(c.dependencyFailures)),
    persisterBatchSize: meter.createHistogram(c.persisterBatchSize.name, options(c.persisterBatchSize)),
    messagesPersisted: meter.createCounter(c.messagesPersisted.name, options(c.messagesPersisted)),
    persistLag: meter.createHistogram(c.persistLag.name, options(c.persistLag)),
    persisterPending: meter.createGauge(c.persisterPending.name, options(c.persisterPending)),
    deadLetters: meter.createCounter(c.deadLetters.name, options(c.deadLetters)),
    deadLettersOpen: meter.createGauge(c.deadLettersOpen.name, options(c.deadLettersOpen)),
    httpRequests: meter.createCounter(c.httpRequests.name, options(c.httpRequests)),
    httpRequestDuration: meter.createHistogram(c.httpRequestDuration.name, options(c.httpRequestDuration)),
  };
}

export const METER_NAME = '@chat/telemetry';

let bound: ChatMetrics | undefined;

function instruments(): ChatMetrics {
  bound ??= createChatMetrics(metricsApi.getMeter(METER_NAME));
  return bound;
}

// The synchronous catalogue entries are exactly the keys of ChatMetrics (a test checks it).
const INSTRUMENT_KEYS = Object.entries(METRIC_CATALOGUE)
  .filter(([, spec]) => spec.kind !== 'observableGauge' && spec.kind !== 'observableCounter')
  .map(([key]) => key as keyof ChatMetrics);

const lazyMetrics = Object.defineProperties(
  {},
  Object.fromEntries(INSTRUMENT_KEYS.map((key) => [key, { enumerable: true, get: () => instruments()[key] }])),
) as ChatMetrics;

/**
 * The process-wide instruments. Each property is looked up on every access, so this object can
 * be taken at import time, before startTelemetry registers the meter provider; keep the object,
 * not a single instrument (`metrics.errors.add(…)`, not a stored `errors`).
 */
export function chatMetrics(): ChatMetrics {
  return lazyMetrics;
}

/** Drops the bound instruments so the next access binds to the newly registered meter provider. */
export function resetChatMetrics(): void {
  bound = undefined;
}
