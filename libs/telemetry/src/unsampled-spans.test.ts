import { afterAll, describe, expect, it } from '@jest/globals';
import { isValidTraceId, trace } from '@opentelemetry/api';
import { callDependency } from './dependency-call.ts';
import { traceBatch } from './trace-batch.ts';
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

describe('dependency calls under an unsampled span', () => {
  it('run the call and still record its duration without starting a client span', async () => {
    const activeInside = await withSpan('send', async (send) => {
      let seen: string | undefined;
      await callDependency(telemetry.metrics, 'redis', 'reserve', () => {
        seen = trace.getActiveSpan()?.spanContext().spanId;
        return Promise.resolve(1);
      });
      return { seen, send: send.spanContext().spanId };
    });
    // The call ran in the send span's context: no child span was made for it.
    expect(activeInside.seen).toBe(activeInside.send);
    const body = await telemetry.renderMetrics();
    expect(body).toMatch(/chat_dependency_call_duration_seconds_count\{dependency="redis",operation="reserve",outcome="ok",[^}]*\} 1/);
  });

  it('start no span either outside any span, since the sampler records nothing', async () => {
    let active: unknown = 'not run';
    await callDependency(telemetry.metrics, 'postgres', 'record_people', () => {
      active = trace.getActiveSpan();
      return Promise.resolve(1);
    });
    expect(active).toBeUndefined();
    expect(await telemetry.renderMetrics()).toMatch(/chat_dependency_call_duration_seconds_count\{dependency="postgres",operation="record_people",outcome="ok",[^}]*\} 1/);
  });

  it('still pass a failure on and count it', async () => {
    await expect(withSpan('send', () => callDependency(telemetry.metrics, 'nats', 'publish', () => Promise.reject(new Error('no responders'))))).rejects.toThrow('no responders');
    expect(await telemetry.renderMetrics()).toMatch(/chat_dependency_failures_total\{dependency="nats",operation="publish",[^}]*\} 1/);
  });
});

describe('a batch traced while the sampler records nothing', () => {
  it('runs the write outside any span without reading the messages\' headers', async () => {
    let headersRead = false;
    let active: unknown = 'not run';
    const result = await traceBatch(
      'persist',
      () => {
        headersRead = true;
        return [];
      },
      () => {
        active = trace.getActiveSpan();
        return Promise.resolve(7);
      },
    );
    expect(result).toBe(7);
    expect(active).toBeUndefined();
    expect(headersRead).toBe(false);
  });

  it('passes the write\'s failure on', async () => {
    await expect(traceBatch('persist', [], () => Promise.reject(new Error('deadlock')))).rejects.toThrow('deadlock');
  });
});
