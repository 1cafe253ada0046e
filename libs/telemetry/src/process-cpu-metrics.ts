import { HostMetricsInstrumentation } from '@opentelemetry/instrumentation-host-metrics';
import { AggregationType, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { METRIC_CATALOGUE } from './metric-catalogue.ts';

/** The meter the host-metrics instrumentation records on (its package name); the views match it alone. */
const HOST_METRICS_METER = '@opentelemetry/instrumentation-host-metrics';

/**
 * host-metrics names its instruments after the OpenTelemetry conventions (`process.cpu.time`,
 * which Prometheus would show as a unit-less `process_cpu_time_total`); these views give the CPU
 * time its catalogue name and drop the utilisation gauge, which divides by every core of the
 * machine and so hides a saturated single-threaded event loop.
 */
export const PROCESS_CPU_VIEWS: ViewOptions[] = [
  { meterName: HOST_METRICS_METER, instrumentName: 'process.cpu.time', name: METRIC_CATALOGUE.processCpu.name },
  { meterName: HOST_METRICS_METER, instrumentName: 'process.cpu.utilization', aggregation: { type: AggregationType.DROP } },
];

/** Records the process CPU time (user and system); hand it to the SDK's instrumentations. */
export function processCpuInstrumentation(): HostMetricsInstrumentation {
  return new HostMetricsInstrumentation({ metricGroups: ['process.cpu'] });
}
