export { createLogger, redactUrl, type Logger } from './create-logger.ts';
export { redactSensitive, REDACTED, SENSITIVE_KEYS } from './redact-sensitive.ts';
export { startTelemetry, tracesExportRequested, TelemetryAlreadyStartedError, METRICS_CONTENT_TYPE, type Telemetry, type TelemetryOptions } from './start-telemetry.ts';
export { METRIC_CATALOGUE, WEBHOOK_METRIC_CATALOGUE, prometheusSeries, catalogueSeriesNames, type MetricSpec, type MetricKind, type MetricKey } from './metric-catalogue.ts';
export {
  createChatMetrics,
  chatMetrics,
  type ChatMetrics,
  type WsRoute,
  type RouteLabels,
  type FrameLabels,
  type Transport,
  type Dependency,
} from './chat-metrics.ts';
export {
  injectTraceHeaders,
  extractContext,
  withExtractedContext,
  withSpan,
  startSpanFromHeaders,
  linkFromHeaders,
  endSpanWithError,
  getTracer,
  SpanKind,
  SpanStatusCode,
  type HeaderSource,
  type SpanOptions,
  type Span,
  type Context,
} from './trace-context.ts';
export { callDependency, callOperation, dependencyOperation, type DependencyOperation } from './dependency-call.ts';
export { traceBatch } from './trace-batch.ts';
export { traceHttpRequest, type TracedRequest } from './http-tracing.ts';
export { stopwatch, secondsSince } from './stopwatch.ts';
/** For tests: pass `spanExporter: new InMemorySpanExporter()` to startTelemetry and read the ended spans. */
export { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
