import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { WEBHOOK_METRIC_CATALOGUE } from '@chat/telemetry';
import { WebhookMetrics } from './webhook-metrics.ts';

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'operating.md'), 'utf8');

function exposition(): string {
  const metrics = new WebhookMetrics();
  metrics.attempt('billing', 'failed', 0.25);
  metrics.retried('billing');
  metrics.attempt('billing', 'delivered', 0.5);
  metrics.deadLettered('billing');
  metrics.replayed('billing');
  return metrics.text();
}

describe('webhook metrics', () => {
  it('counts by endpoint and outcome', () => {
    const text = exposition();
    expect(text).toContain('chat_webhook_attempts_total{endpoint="billing",outcome="failed"} 1');
    expect(text).toContain('chat_webhook_attempts_total{endpoint="billing",outcome="delivered"} 1');
    expect(text).toContain('chat_webhook_retries_total{endpoint="billing"} 1');
    expect(text).toContain('chat_webhook_attempt_seconds_sum{endpoint="billing"} 0.75');
    expect(text).toContain('chat_webhook_attempt_seconds_count{endpoint="billing"} 2');
  });

  it('serves exactly the metrics the telemetry catalogue declares for it, with their kinds', () => {
    const types = [...exposition().matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1], match[2]]);
    expect(types).toEqual(Object.values(WEBHOOK_METRIC_CATALOGUE).map((spec) => [spec.name, spec.kind]));
  });

  it('are each documented in docs/operating.md with their type', () => {
    const types = [...exposition().matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1], match[2]] as const);
    expect(types.length).toBeGreaterThan(0);
    for (const [name, type] of types) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row).toBeDefined();
      expect(row).toContain(`| ${type} |`);
    }
  });
});
