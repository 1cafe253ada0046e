import { createServer, request, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { callDependency } from './dependency-call.ts';
import { traceHttpRequest } from './http-tracing.ts';
import { METRIC_CATALOGUE } from './metric-catalogue.ts';
import { startTelemetry, TelemetryAlreadyStartedError, tracesExportRequested, type Telemetry } from './start-telemetry.ts';
import { injectTraceHeaders, linkFromHeaders, startSpanFromHeaders, withExtractedContext, withSpan } from './trace-context.ts';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;

beforeAll(() => {
  telemetry = startTelemetry({ serviceName: 'gateway', serviceVersion: '1.2.3', instanceId: 'gateway-test-1', spanExporter: exporter });
});
afterAll(async () => {
  await telemetry.shutdown();
});
beforeEach(() => {
  exporter.reset();
});

const finished = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('trace context across tiers', () => {
  it('makes a span started under extracted headers a child of the span that injected them', async () => {
    const headers = await withSpan('send', () => Promise.resolve(injectTraceHeaders()));
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    await withExtractedContext(headers, () => withSpan('persist', () => Promise.resolve()));

    const [send] = finished('send');
    const [persist] = finished('persist');
    expect(persist!.spanContext().traceId).toBe(send!.spanContext().traceId);
    expect(persist!.parentSpanContext?.spanId).toBe(send!.spanContext().spanId);
  });

  it('reads headers from anything with a get method, such as NATS message headers', () => {
    const headers = withSpan('send', () => injectTraceHeaders());
    const natsLike = { get: (key: string) => headers[key] ?? '' };
    startSpanFromHeaders('persist message', natsLike).end();

    const [send] = finished('send');
    const [persist] = finished('persist message');
    expect(persist!.kind).toBe(SpanKind.CONSUMER);
    expect(persist!.parentSpanContext?.spanId).toBe(send!.spanContext().spanId);
    expect(linkFromHeaders(natsLike)?.context.spanId).toBe(send!.spanContext().spanId);
  });

  it('starts a new trace when the headers carry no context', () => {
    startSpanFromHeaders('persist message', {}).end();
    const [persist] = finished('persist message');
    expect(persist!.parentSpanContext).toBeUndefined();
    expect(linkFromHeaders({ get: () => '' })).toBeUndefined();
  });

  it('injects nothing outside a span', () => {
    expect(injectTraceHeaders()).toEqual({});
  });

  it('marks a span failed when its function rejects, and passes the error on', async () => {
    await expect(withSpan('send', () => Promise.reject(new Error('queue down')))).rejects.toThrow('queue down');
    expect(() => withSpan('parse', () => { throw new Error('bad frame'); })).toThrow('bad frame');
    expect(finished('send')[0]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'queue down' });
    expect(finished('parse')[0]!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('carries service name, version and instance id on every span', () => {
    withSpan('send', () => undefined);
    const attributes = finished('send')[0]!.resource.attributes;
    expect(attributes).toMatchObject({ 'service.name': 'gateway', 'service.version': '1.2.3', 'service.instance.id': 'gateway-test-1' });
  });
});

describe('the /metrics handler', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/metrics') return telemetry.handleMetrics(req, res);
      traceHttpRequest(req, res, (traced) => {
        traced.setRoute('/api/chat/sessions/:id');
        res.writeHead(req.url === '/boom' ? 503 : 200).end('ok');
      }, telemetry.metrics);
    });
    base = await listen(server);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers the Prometheus text format with every catalogue metric once each has been recorded', async () => {
    const m = telemetry.metrics;
    m.connectionsOpen.add(1, { route: 'chat' });
    m.connects.add(1, { route: 'chat' });
    m.disconnects.add(1, { route: 'chat', code: 4401 });
    m.framesIn.add(1, { type: 'send' });
    m.framesOut.add(1, { type: 'ack' });
    m.messagesAccepted.add(1, { transport: 'ws' });
    m.errors.add(1, { code: 'rate_limited' });
    m.sendAckLatency.record(0.003, { transport: 'ws' });
    m.fanoutDeliveryLatency.record(0.002);
    m.slowConsumerCutoffs.add(1);
    m.rateLimitHits.add(1, { transport: 'ws' });
    m.persisterBatchSize.record(20);
    m.messagesPersisted.add(20);
    m.persistLag.record(0.04);
    m.persisterPending.record(7);
    m.deadLetters.add(1, { reason: 'refused' });
    m.deadLettersOpen.record(1);
    await callDependency(m, 'redis', 'reserve', () => Promise.resolve(1));
    await callDependency(m, 'nats', 'publish', () => Promise.reject(new Error('no responders'))).catch(() => undefined);
    await get(`${base}/api/chat/sessions/x`);
    await new Promise((resolve) => setTimeout(resolve, 30));

    const scrape = await get(`${base}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.type).toContain('text/plain');
    for (const spec of Object.values(METRIC_CATALOGUE)) {
      expect(scrape.body).toContain(`# TYPE ${spec.name} `);
    }
    expect(scrape.body).toMatch(/chat_disconnects_total\{route="chat",code="4401",[^}]*\} 1/);
    expect(scrape.body).toMatch(/chat_persister_pending\{[^}]*service_instance_id="gateway-test-1"[^}]*\} 7/);
    expect(scrape.body).toMatch(/chat_send_ack_latency_seconds_bucket\{transport="ws",[^}]*le="0.005"\} 1/);
    expect(scrape.body).toMatch(/chat_heap_used_bytes\{[^}]*\} \d+/);
  });

  it('exposes the process CPU time by mode, growing with work, and the memory limit the alerts divide by', async () => {
    const cpuSeconds = (body: string) =>
      [...body.matchAll(/^chat_process_cpu_seconds_total\{cpu_mode="(user|system)",[^}]*\} ([0-9.e+-]+)$/gm)].reduce((sum, match) => sum + Number(match[2]), 0);
    const before = cpuSeconds(await telemetry.renderMetrics());
    // Burn 100 ms of this process's CPU (not wall time: the machine may be busy).
    const start = process.cpuUsage();
    while ((process.cpuUsage(start).user + process.cpuUsage(start).system) / 1e6 < 0.1) Math.sqrt(Math.random());
    const body = await telemetry.renderMetrics();
    expect(body).toMatch(/^chat_process_cpu_seconds_total\{cpu_mode="user",[^}]*service_instance_id="gateway-test-1"[^}]*\} /m);
    expect(cpuSeconds(body) - before).toBeGreaterThanOrEqual(0.1);
    expect(body).not.toContain('process_cpu_utilization');
    const limit = /^chat_process_memory_limit_bytes\{[^}]*\} (\d+)$/m.exec(body);
    expect(Number(limit?.[1])).toBeGreaterThan(0);
  });

  it('records failed dependency calls as failures with a failed client span', async () => {
    await expect(callDependency(telemetry.metrics, 'postgres', 'insert_messages', () => Promise.reject(new Error('connection refused')))).rejects.toThrow();
    const body = await telemetry.renderMetrics();
    expect(body).toMatch(/chat_dependency_failures_total\{dependency="postgres",operation="insert_messages",[^}]*\} 1/);
    expect(body).toMatch(/chat_dependency_call_duration_seconds_count\{dependency="postgres",operation="insert_messages",outcome="error",[^}]*\} 1/);
    const [span] = finished('postgres insert_messages');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('traces REST requests as server spans that continue an incoming traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await get(`${base}/boom`, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const [span] = finished('GET /api/chat/sessions/:id');
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(span!.spanContext().traceId).toBe(traceId);
    expect(span!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span!.attributes['http.response.status_code']).toBe(503);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    const body = await telemetry.renderMetrics();
    expect(body).toMatch(/chat_http_requests_total\{method="GET",route="\/api\/chat\/sessions\/:id",status="503",[^}]*\} 1/);
  });
});

describe('tracesExportRequested', () => {
  it('sends traces only when a standard OTEL variable asks for it', () => {
    expect(tracesExportRequested({})).toBe(false);
    expect(tracesExportRequested({ OTEL_SERVICE_NAME: 'x' })).toBe(false);
    expect(tracesExportRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false);
    expect(tracesExportRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracesExportRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracesExportRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
  });

  it('keeps creating real span ids when nothing is exported, so logs can carry them', () => {
    expect(telemetry.exportingTraces).toBe(false);
    withSpan('send', (span) => expect(trace.isSpanContextValid(span.spanContext())).toBe(true));
  });
});

describe('startTelemetry', () => {
  it('refuses a second start in the same process', () => {
    expect(() => startTelemetry({ serviceName: 'again' })).toThrow(TelemetryAlreadyStartedError);
  });
});
