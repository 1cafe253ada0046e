import { afterAll, describe, expect, it } from '@jest/globals';
import { isValidTraceId } from '@opentelemetry/api';
import { startTelemetry } from './start-telemetry.ts';
import { injectTraceHeaders, withExtractedContext, withSpan } from './trace-context.ts';

// A process whose traces go nowhere: spans are not recorded, but ids still flow to logs and downstream.
const telemetry = startTelemetry({ serviceName: 'unsampled-test' });
afterAll(() => telemetry.shutdown());

describe('spans when no trace exporter is configured', () => {
  it('are not recorded, so the message path pays nothing for them', () => {
    expect(telemetry.exportingTraces).toBe(false);
    withSpan('send', (span) => expect(span.isRecording()).toBe(false));
  });

  it('still carry a valid trace id that headers pass on to the next tier', () => {
    const { traceId, headers } = withSpan('send', (span) => ({ traceId: span.spanContext().traceId, headers: injectTraceHeaders() }));
    expect(isValidTraceId(traceId)).toBe(true);
    expect(headers['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    const downstream = withExtractedContext(headers, () => withSpan('persist', (span) => span.spanContext().traceId));
    expect(downstream).toBe(traceId);
  });
});
