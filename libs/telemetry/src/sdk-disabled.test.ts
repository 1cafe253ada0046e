import { describe, it, expect, afterAll } from '@jest/globals';
import { trace } from '@opentelemetry/api';
import { startTelemetry } from './start-telemetry.ts';

describe('with OTEL_SDK_DISABLED=true', () => {
  const previous = process.env.OTEL_SDK_DISABLED;
  process.env.OTEL_SDK_DISABLED = 'true';
  const telemetry = startTelemetry({ serviceName: 'disabled' });
  afterAll(async () => {
    await telemetry.shutdown();
    if (previous === undefined) delete process.env.OTEL_SDK_DISABLED;
    else process.env.OTEL_SDK_DISABLED = previous;
  });

  it('answers an empty scrape instead of failing, and records nothing', async () => {
    telemetry.metrics.messagesAccepted.add(1, { transport: 'ws' });
    const text = await telemetry.renderMetrics();
    expect(text).not.toContain('chat_');
    expect(text.startsWith('#')).toBe(true);
  });

  it('creates no real spans', () => {
    const span = telemetry.tracer.startSpan('send');
    expect(trace.isSpanContextValid(span.spanContext())).toBe(false);
    span.end();
  });
});
