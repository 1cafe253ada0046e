import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { ChatMetrics } from './chat-metrics.ts';
import { stopwatch } from './stopwatch.ts';
import { extractContext, getTracer } from './trace-context.ts';

export interface TracedRequest {
  readonly span: Span;
  /** Names the route template (`/api/chat/sessions/:id`) once the router knows it; keeps labels bounded. */
  setRoute(route: string): void;
}

/**
 * Traces one HTTP request: a server span (child of an incoming `traceparent`) that is active
 * while `fn` runs and ends when the response is finished or the socket closes, plus the request
 * count and duration metrics. Requests whose route is never set are labelled `unmatched`.
 */
export function traceHttpRequest<T>(
  req: IncomingMessage,
  res: ServerResponse,
  fn: (traced: TracedRequest) => T,
  metrics?: Pick<ChatMetrics, 'httpRequests' | 'httpRequestDuration'>,
): T {
  const method = req.method ?? 'GET';
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const span = getTracer().startSpan(
    method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path } },
    extractContext(req.headers),
  );
  const elapsed = stopwatch();
  let route = 'unmatched';
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    const status = res.headersSent || res.writableFinished ? res.statusCode : 499;
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    const labels = { method, route, status };
    metrics?.httpRequests.add(1, labels);
    metrics?.httpRequestDuration.record(elapsed(), labels);
  };
  res.once('finish', end);
  res.once('close', end);
  const traced: TracedRequest = {
    span,
    setRoute(template) {
      route = template;
      span.updateName(`${method} ${template}`);
      span.setAttribute('http.route', template);
    },
  };
  return context.with(trace.setSpan(context.active(), span), () => fn(traced));
}
