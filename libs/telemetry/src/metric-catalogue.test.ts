import { describe, it, expect } from '@jest/globals';
import { metrics } from '@opentelemetry/api';
import { createChatMetrics } from './chat-metrics.ts';
import { catalogueSeriesNames, METRIC_CATALOGUE, WEBHOOK_METRIC_CATALOGUE, type MetricSpec } from './metric-catalogue.ts';

const specs: [string, MetricSpec][] = Object.entries(METRIC_CATALOGUE);
/** With the metrics the webhooks service renders itself: named by the same rules. */
const named: [string, MetricSpec][] = [...specs, ...Object.entries(WEBHOOK_METRIC_CATALOGUE)];

describe('the metric catalogue', () => {
  it.each(named)('names %s in snake_case under the chat_ prefix', (_key, spec) => {
    expect(spec.name).toMatch(/^chat_[a-z][a-z0-9_]*[a-z0-9]$/);
  });

  it.each(named)('ends the counter %s in _total and no other kind', (_key, spec) => {
    expect(spec.name.endsWith('_total')).toBe(spec.kind === 'counter' || spec.kind === 'observableCounter');
  });

  it.each(named)('puts the unit of %s in its name', (_key, spec) => {
    if (spec.unit === 's') expect(spec.name).toMatch(/_seconds(_total)?$/);
    if (spec.unit === 'By') expect(spec.name).toMatch(/_bytes$/);
    if (spec.unit.startsWith('{')) expect(spec.name).not.toMatch(/_(seconds|bytes)$/);
  });

  it.each(specs.filter(([, spec]) => spec.kind === 'histogram'))('gives the histogram %s increasing bucket boundaries', (_key, spec) => {
    const buckets = [...(spec.buckets ?? [])];
    expect(buckets.length).toBeGreaterThan(3);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });

  it('uses each name once', () => {
    const names = named.map(([, spec]) => spec.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('has an instrument in createChatMetrics for every synchronous entry', () => {
    const created = Object.keys(createChatMetrics(metrics.getMeter('test'))).sort();
    const synchronous = specs.filter(([, spec]) => spec.kind !== 'observableGauge' && spec.kind !== 'observableCounter').map(([key]) => key).sort();
    expect(created).toEqual(synchronous);
  });

  it('lists the three series of a histogram', () => {
    const series = catalogueSeriesNames();
    expect(series.has('chat_send_ack_latency_seconds_bucket')).toBe(true);
    expect(series.has('chat_send_ack_latency_seconds_count')).toBe(true);
    expect(series.has('chat_send_ack_latency_seconds')).toBe(false);
    expect(series.has('chat_connections_open')).toBe(true);
    expect(series.has('chat_webhook_attempt_seconds_sum')).toBe(true);
    expect(series.has('chat_webhook_attempt_seconds_bucket')).toBe(false);
  });
});
