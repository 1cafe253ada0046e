import { hostname } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, diag, metrics as metricsApi, propagation, trace, type Meter, type Tracer } from '@opentelemetry/api';
import { W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { startNodeSdk } from '@opentelemetry/sdk-node';
import { AlwaysOffSampler, NoopSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { chatMetrics, METER_NAME, resetChatMetrics, type ChatMetrics } from './chat-metrics.ts';
import { PROCESS_CPU_VIEWS, processCpuInstrumentation } from './process-cpu-metrics.ts';
import { registerRuntimeMetrics } from './runtime-metrics.ts';
import { getTracer, setSamplingNothing } from './trace-context.ts';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Tells replicas apart; defaults to INSTANCE_ID, else `<hostname>-<pid>`. */
  instanceId?: string;
  /** Receives every ended span (tests pass an InMemorySpanExporter); replaces the OTEL_* exporter choice. */
  spanExporter?: SpanExporter;
  /**
   * How often the event-loop delay is sampled (default 10 ms). Each sample wakes the process, so
   * a service whose loop mostly waits, such as the persister, may sample less often.
   */
  eventLoopResolutionMs?: number;
}

export interface Telemetry {
  readonly metrics: ChatMetrics;
  readonly meter: Meter;
  readonly tracer: Tracer;
  /** Whether spans leave the process (an OTLP or console exporter was configured). */
  readonly exportingTraces: boolean;
  /** A node:http handler answering the Prometheus text format; mount it at GET /metrics (needs no binding). */
  readonly handleMetrics: (req: IncomingMessage, res: ServerResponse) => void;
  /** The Prometheus text for frameworks that want a body rather than a handler. */
  readonly renderMetrics: () => Promise<string>;
  /** Flushes pending spans and metrics, stops the SDK and unregisters the globals; never rejects. */
  readonly shutdown: () => Promise<void>;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const EXPORT_SWITCHES = ['OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] as const;

/**
 * Traces leave the process only when a standard variable asks for it. Without one the SDK would
 * default to OTLP on localhost:4318 and log a failure every few seconds.
 */
export function tracesExportRequested(env: NodeJS.ProcessEnv): boolean {
  return EXPORT_SWITCHES.some((key) => (env[key] ?? '').trim() !== '') && (env.OTEL_TRACES_EXPORTER ?? '').trim() !== 'none';
}

function spanProcessors(options: TelemetryOptions, exporting: boolean): SpanProcessor[] | undefined {
  if (options.spanExporter !== undefined) return [new SimpleSpanProcessor({ exporter: options.spanExporter })];
  // undefined lets the SDK build the exporters from OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_*.
  if (exporting) return undefined;
  // Spans are still created (ids for logs and for propagation) but go nowhere.
  return [new NoopSpanProcessor()];
}

/** startTelemetry registers process-wide providers, so a second call needs a shutdown first. */
export class TelemetryAlreadyStartedError extends Error {
  override readonly name = 'TelemetryAlreadyStartedError';
  constructor(options?: { cause?: unknown }) {
    super('startTelemetry was already called in this process; call shutdown() first', options);
  }
}

let running: Telemetry | undefined;

/**
 * Starts the OpenTelemetry SDK for one service: W3C trace context, traces exported only when
 * OTEL_* variables say so, metrics kept for a Prometheus scrape of the service's own /metrics.
 * Call it first thing in main, before creating clients. One per process.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (running !== undefined) throw new TelemetryAlreadyStartedError();
  // The SDK reads the OTEL_* variables from process.env itself, so the decisions here do too.
  const env = process.env;
  const exporting = options.spanExporter === undefined && tracesExportRequested(env);
  const samplingNothing = !(exporting || options.spanExporter !== undefined || (env.OTEL_TRACES_SAMPLER ?? '') !== '');
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const serializer = new PrometheusSerializer('', false, /^service\.(name|instance\.id)$/, false, true);

  const sdk = startNodeSdk({
    logLevel: env.OTEL_LOG_LEVEL ?? 'warn',
    resourceAttributes: {
      'service.name': options.serviceName,
      'service.version': options.serviceVersion ?? '0.0.0',
      'service.instance.id': options.instanceId ?? env.INSTANCE_ID ?? `${hostname()}-${process.pid}`,
      'host.name': hostname(),
    },
    // The stock detectors add async attributes and command lines; OTEL_RESOURCE_ATTRIBUTES is still read.
    resourceDetectors: [],
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    spanProcessors: spanProcessors(options, exporting),
    // With nowhere to send spans, recording them is pure cost on the message path (~10 µs each);
    // unsampled spans still carry trace ids, so logs and propagated context keep them.
    ...(samplingNothing ? { sampler: new AlwaysOffSampler() } : {}),
    metricReaders: [prometheus],
    views: PROCESS_CPU_VIEWS,
    instrumentations: [processCpuInstrumentation()],
    logRecordProcessors: [],
  });

  setSamplingNothing(samplingNothing);
  resetChatMetrics();
  const meter = metricsApi.getMeter(METER_NAME);
  const stopRuntimeMetrics = registerRuntimeMetrics(meter, options.eventLoopResolutionMs);

  const sdkDisabled = /^(true|1)$/i.test((env.OTEL_SDK_DISABLED ?? '').trim());
  const renderMetrics = async () => {
    // With the SDK switched off the reader is never bound; answer an empty scrape, not an error.
    if (sdkDisabled) return '# OpenTelemetry SDK disabled by OTEL_SDK_DISABLED\n';
    const { resourceMetrics } = await prometheus.collect();
    return serializer.serialize(resourceMetrics);
  };

  const telemetry: Telemetry = {
    metrics: chatMetrics(),
    meter,
    tracer: getTracer(),
    exportingTraces: exporting,
    renderMetrics,
    handleMetrics: (_req, res) => {
      renderMetrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
          res.end(body);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`# metrics collection failed: ${error instanceof Error ? error.message : String(error)}\n`);
        },
      );
    },
    shutdown: async () => {
      if (running !== telemetry) return;
      stopRuntimeMetrics();
      try {
        await sdk.shutdown();
      } catch (error) {
        // An unreachable collector must not turn a clean exit into a crash.
        diag.warn('telemetry shutdown could not flush every span', error);
      } finally {
        // Unregister so a later startTelemetry in the same process (tests) can register again.
        setSamplingNothing(false);
        trace.disable();
        metricsApi.disable();
        propagation.disable();
        context.disable();
        diag.disable();
        resetChatMetrics();
        running = undefined;
      }
    },
  };
  running = telemetry;
  return telemetry;
}
