import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';

export const TRACER_NAME = '@chat/telemetry';

/** Plain records (queue headers), Node's incoming headers, or anything with `get` (NATS MsgHdrs, fetch Headers). */
export type HeaderSource =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(key: string): string | null | undefined };

function hasGetter(source: HeaderSource): source is { get(key: string): string | null | undefined } {
  return typeof (source as { get?: unknown }).get === 'function';
}

const getter: TextMapGetter<HeaderSource> = {
  keys: (source) => (hasGetter(source) ? [] : Object.keys(source)),
  get: (source, key) => {
    if (hasGetter(source)) {
      // NATS answers '' for a missing header; treat it as absent.
      const value = source.get(key);
      return value === null || value === undefined || value === '' ? undefined : value;
    }
    const value = source[key] ?? source[key.toLowerCase()];
    if (value === undefined) return undefined;
    return typeof value === 'string' ? value : [...value];
  },
};

/** True while the process's sampler records nothing (no exporter, no OTEL_TRACES_SAMPLER): set by startTelemetry. */
let samplingNothing = false;

export function setSamplingNothing(value: boolean): void {
  samplingNothing = value;
}

export function tracerSamplesNothing(): boolean {
  return samplingNothing;
}

export function getTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** The active trace context as W3C headers (`traceparent`, maybe `tracestate`, `baggage`), to send along. */
export function injectTraceHeaders(from: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(from, carrier);
  return carrier;
}

/** The context carried by the headers, or the root context when they carry none. */
export function extractContext(headers: HeaderSource): Context {
  return propagation.extract(ROOT_CONTEXT, headers, getter);
}

/** Runs `fn` with the headers' trace context active, so spans started inside become its children. */
export function withExtractedContext<T>(headers: HeaderSource, fn: () => T): T {
  return context.with(extractContext(headers), fn);
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** Parent context; defaults to the active one. */
  parent?: Context;
}

function recordFailure(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * Runs `fn` inside a new active span and ends it when `fn` returns or its promise settles;
 * a throw or rejection marks the span as failed and is passed on.
 */
export function withSpan<T>(name: string, fn: (span: Span) => T, options: SpanOptions = {}): T {
  const { parent, ...spanOptions } = options;
  return getTracer().startActiveSpan(name, spanOptions, parent ?? context.active(), (span) => {
    let result: T;
    try {
      result = fn(span);
    } catch (error) {
      recordFailure(span, error);
      span.end();
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (value: unknown) => {
          span.end();
          return value;
        },
        (error: unknown) => {
          recordFailure(span, error);
          span.end();
          throw error;
        },
      ) as T;
    }
    span.end();
    return result;
  });
}

/**
 * Starts (without activating) a span whose parent is the context in the headers; for consumers
 * that handle a batch and end one span per message when the batch is done.
 */
export function startSpanFromHeaders(name: string, headers: HeaderSource, options: Omit<SpanOptions, 'parent'> = {}): Span {
  return getTracer().startSpan(name, { kind: SpanKind.CONSUMER, ...options }, extractContext(headers));
}

/** A span link to the context carried in the headers, or undefined when they carry none. */
export function linkFromHeaders(headers: HeaderSource): Link | undefined {
  const spanContext = trace.getSpanContext(extractContext(headers));
  return spanContext === undefined ? undefined : { context: spanContext };
}

/** Ends a span as failed; for spans started with startSpanFromHeaders. */
export function endSpanWithError(span: Span, error: unknown): void {
  recordFailure(span, error);
  span.end();
}

export { SpanKind, SpanStatusCode, type Span, type Context };
