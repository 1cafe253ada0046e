import { SpanKind, trace } from '@opentelemetry/api';
import type { ChatMetrics, Dependency } from './chat-metrics.ts';
import { stopwatch } from './stopwatch.ts';
import { tracerSamplesNothing, withSpan } from './trace-context.ts';

const SYSTEM: Record<Dependency, string> = { redis: 'redis', nats: 'nats', postgres: 'postgresql' };

/**
 * Calls a dependency inside a client span and records its duration and, on failure, a
 * failure count: `await callDependency(metrics, 'redis', 'reserve', () => state.reserve(input))`.
 */
export async function callDependency<T>(
  metrics: Pick<ChatMetrics, 'dependencyCallDuration' | 'dependencyFailures'>,
  dependency: Dependency,
  operation: string,
  fn: () => Promise<T>,
): Promise<T> {
  const elapsed = stopwatch();
  try {
    // Under a span that is not recorded (its trace was not sampled), or outside any span while the
    // sampler records nothing, the client span would not be recorded either, and nothing starts
    // spans inside a client call: skipping it saves its cost per call (connects make several).
    const parent = trace.getActiveSpan();
    const result =
      (parent === undefined ? tracerSamplesNothing() : !parent.isRecording())
        ? await fn()
        : await withSpan(`${dependency} ${operation}`, fn, {
            kind: SpanKind.CLIENT,
            attributes: { 'db.system.name': SYSTEM[dependency], 'db.operation.name': operation },
          });
    metrics.dependencyCallDuration.record(elapsed(), { dependency, operation, outcome: 'ok' });
    return result;
  } catch (error) {
    metrics.dependencyCallDuration.record(elapsed(), { dependency, operation, outcome: 'error' });
    metrics.dependencyFailures.add(1, { dependency, operation });
    throw error;
  }
}
