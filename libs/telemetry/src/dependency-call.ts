import { SpanKind, trace, type SpanOptions } from '@opentelemetry/api';
import type { ChatMetrics, Dependency, DependencyCallLabels, DependencyLabels } from './chat-metrics.ts';
import { tracerSamplesNothing, withSpan } from './trace-context.ts';

const SYSTEM: Record<Dependency, string> = { redis: 'redis', nats: 'nats', postgres: 'postgresql' };

type DependencyMetrics = Pick<ChatMetrics, 'dependencyCallDuration' | 'dependencyFailures'>;

/**
 * The labels and span settings of one dependency operation, made once: a record then passes the
 * same attribute objects every time instead of building them per call (a connect makes several).
 */
export interface DependencyOperation {
  readonly spanName: string;
  readonly spanOptions: SpanOptions;
  readonly ok: Readonly<DependencyCallLabels>;
  readonly error: Readonly<DependencyCallLabels>;
  readonly failure: Readonly<DependencyLabels>;
}

export function dependencyOperation(dependency: Dependency, operation: string): DependencyOperation {
  return {
    spanName: `${dependency} ${operation}`,
    spanOptions: { kind: SpanKind.CLIENT, attributes: { 'db.system.name': SYSTEM[dependency], 'db.operation.name': operation } },
    ok: { dependency, operation, outcome: 'ok' },
    error: { dependency, operation, outcome: 'error' },
    failure: { dependency, operation },
  };
}

/**
 * Calls a dependency inside a client span and records its duration and, on failure, a
 * failure count: `await callDependency(metrics, 'redis', 'reserve', () => state.reserve(input))`.
 */
export function callDependency<T>(metrics: DependencyMetrics, dependency: Dependency, operation: string, fn: () => Promise<T>): Promise<T> {
  return callOperation(metrics, dependencyOperation(dependency, operation), fn);
}

/** callDependency for an operation whose labels were made once with dependencyOperation. */
export async function callOperation<T>(metrics: DependencyMetrics, operation: DependencyOperation, fn: () => Promise<T>): Promise<T> {
  // A start time rather than a stopwatch closure: one object less per call.
  const start = performance.now();
  try {
    // Under a span that is not recorded (its trace was not sampled), or outside any span while the
    // sampler records nothing, the client span would not be recorded either, and nothing starts
    // spans inside a client call: skipping it saves its cost per call (connects make several).
    const parent = trace.getActiveSpan();
    const result = (parent === undefined ? tracerSamplesNothing() : !parent.isRecording()) ? await fn() : await withSpan(operation.spanName, fn, operation.spanOptions);
    metrics.dependencyCallDuration.record((performance.now() - start) / 1000, operation.ok);
    return result;
  } catch (error) {
    metrics.dependencyCallDuration.record((performance.now() - start) / 1000, operation.error);
    metrics.dependencyFailures.add(1, operation.failure);
    throw error;
  }
}
