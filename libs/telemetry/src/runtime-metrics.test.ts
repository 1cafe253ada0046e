import { describe, it, expect } from '@jest/globals';
import { startTelemetry } from './start-telemetry.ts';

function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}`));
  return Number(line?.split(' ').at(-1));
}

describe('runtime metrics', () => {
  it('report a blocked event loop as lag and the heap in bytes', async () => {
    const telemetry = startTelemetry({ serviceName: 'runtime-test', instanceId: 'runtime-1' });
    try {
      await telemetry.renderMetrics(); // resets the delay histogram
      await new Promise((resolve) => setTimeout(resolve, 50));
      const until = Date.now() + 120;
      while (Date.now() < until) {
        // Hold the loop so the delay monitor cannot fire.
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
      const text = await telemetry.renderMetrics();
      expect(sample(text, 'chat_eventloop_lag_seconds', 'stat="max"')).toBeGreaterThan(0.08);
      expect(sample(text, 'chat_eventloop_lag_seconds', 'stat="p50"')).toBeLessThanOrEqual(sample(text, 'chat_eventloop_lag_seconds', 'stat="max"'));
      expect(sample(text, 'chat_heap_used_bytes')).toBeGreaterThan(1_000_000);
      expect(sample(text, 'chat_process_resident_memory_bytes')).toBeGreaterThan(sample(text, 'chat_heap_used_bytes'));
    } finally {
      await telemetry.shutdown();
    }
  });
});
