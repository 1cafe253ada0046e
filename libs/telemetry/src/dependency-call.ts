import { SpanKind } from '@opentelemetry/api';
import type { ChatMetrics, Dependency } from './chat-metrics.ts';
import { stopwatch } from './stopwatch.ts';
import { withSpan } from './trace-context.ts';

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
    const result = await withSpan(`${dependency} ${operation}`, fn, {
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
