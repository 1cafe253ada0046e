import { totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Meter } from '@opentelemetry/api';
import { METRIC_CATALOGUE } from './metric-catalogue.ts';

/** The event-loop delay's sampling interval unless a service asks for another. */
const DEFAULT_EVENT_LOOP_RESOLUTION_MS = 10;

/**
 * What the process may use: the cgroup limit in a container (Node reports 0, or a huge number
 * for "max", when there is none), else the machine's memory. The memory alert divides by it.
 */
export function memoryLimitBytes(constrained = process.constrainedMemory(), total = totalmem()): number {
  return constrained > 0 && constrained < total ? constrained : total;
}

/**
 * Event-loop delay and memory as observable gauges. The delay histogram is reset at each
 * collection, so each scrape shows the delay since the previous one. The delay is sampled by a
 * timer every resolutionMs, which wakes an idle process each time: a block shorter than that may
 * go unseen. Returns a stop function.
 */
export function registerRuntimeMetrics(meter: Meter, resolutionMs = DEFAULT_EVENT_LOOP_RESOLUTION_MS): () => void {
  const c = METRIC_CATALOGUE;
  // The histogram records the whole sampling interval; the lag is what exceeds it.
  const lagSeconds = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs) / 1000;
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  const lag = meter.createObservableGauge(c.eventLoopLag.name, { unit: c.eventLoopLag.unit, description: c.eventLoopLag.description });
  const heapUsed = meter.createObservableGauge(c.heapUsed.name, { unit: c.heapUsed.unit, description: c.heapUsed.description });
  const heapTotal = meter.createObservableGauge(c.heapTotal.name, { unit: c.heapTotal.unit, description: c.heapTotal.description });
  const rss = meter.createObservableGauge(c.residentMemory.name, { unit: c.residentMemory.unit, description: c.residentMemory.description });
  const limit = meter.createObservableGauge(c.memoryLimit.name, { unit: c.memoryLimit.unit, description: c.memoryLimit.description });
  const observables = [lag, heapUsed, heapTotal, rss, limit];

  const collect = (result: { observe: (observable: (typeof observables)[number], value: number, attributes?: Record<string, string>) => void }) => {
    // Before the first sample the histogram reports NaN percentiles and a huge min; skip them.
    if (delay.count > 0) {
      result.observe(lag, lagSeconds(delay.percentile(50)), { stat: 'p50' });
      result.observe(lag, lagSeconds(delay.percentile(99)), { stat: 'p99' });
      result.observe(lag, lagSeconds(delay.max), { stat: 'max' });
      delay.reset();
    }
    const memory = process.memoryUsage();
    result.observe(heapUsed, memory.heapUsed);
    result.observe(heapTotal, memory.heapTotal);
    result.observe(rss, memory.rss);
    result.observe(limit, memoryLimitBytes());
  };
  meter.addBatchObservableCallback(collect, observables);
  return () => {
    meter.removeBatchObservableCallback(collect, observables);
    delay.disable();
  };
}
