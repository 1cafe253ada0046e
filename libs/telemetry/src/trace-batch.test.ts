import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { startTelemetry, type Telemetry } from './start-telemetry.ts';
import { traceBatch } from './trace-batch.ts';
import { injectTraceHeaders, withSpan } from './trace-context.ts';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
beforeAll(() => {
  telemetry = startTelemetry({ serviceName: 'persister', instanceId: 'batch-test', spanExporter: exporter });
});
afterAll(() => telemetry.shutdown());
beforeEach(() => exporter.reset());

const sendHeaders = (n: number) => Array.from({ length: n }, () => withSpan('send', () => injectTraceHeaders()));

describe('traceBatch', () => {
  it("gives each message a persist span under its own send span and links the batch span to all", async () => {
    const headers = sendHeaders(3);
    const inserted = await traceBatch('persist', headers, () => withSpan('postgres insert_messages', () => Promise.resolve(3)));
    expect(inserted).toBe(3);

    const spans = exporter.getFinishedSpans();
    const sends = spans.filter((s) => s.name === 'send');
    const persists = spans.filter((s) => s.name === 'persist');
    const batch = spans.find((s) => s.name === 'persist batch')!;
    const insert = spans.find((s) => s.name === 'postgres insert_messages')!;
    expect(persists.map((s) => s.parentSpanContext?.spanId).sort()).toEqual(sends.map((s) => s.spanContext().spanId).sort());
    expect(persists.map((s) => s.spanContext().traceId).sort()).toEqual(sends.map((s) => s.spanContext().traceId).sort());
    expect(batch.links.map((l) => l.context.spanId).sort()).toEqual(sends.map((s) => s.spanContext().spanId).sort());
    expect(insert.parentSpanContext?.spanId).toBe(batch.spanContext().spanId);
  });

  it('reads headers given as a function', async () => {
    const headers = sendHeaders(2);
    await traceBatch('persist', () => headers, () => Promise.resolve(2));
    expect(exporter.getFinishedSpans().filter((s) => s.name === 'persist')).toHaveLength(2);
  });

  it('fails every message span when the write fails, and passes the error on', async () => {
    await expect(traceBatch('persist', sendHeaders(2), () => Promise.reject(new Error('deadlock')))).rejects.toThrow('deadlock');
    const persists = exporter.getFinishedSpans().filter((s) => s.name === 'persist');
    expect(persists).toHaveLength(2);
    for (const span of persists) expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });
});
