import { describe, it, expect } from '@jest/globals';
import { LatencyRecorder, mergeEncoded } from './histogram.ts';

describe('LatencyRecorder', () => {
  it('reports percentiles in milliseconds with microsecond resolution', () => {
    const recorder = new LatencyRecorder();
    for (let i = 1; i <= 100; i++) recorder.recordMs(i / 10);
    const summary = recorder.summary();
    expect(summary.count).toBe(100);
    expect(summary.p50).toBeCloseTo(5, 1);
    expect(summary.p99).toBeCloseTo(9.9, 1);
    expect(summary.max).toBeCloseTo(10, 1);
  });

  it('never reports a percentile above the maximum', () => {
    const recorder = new LatencyRecorder();
    for (const value of [57.433, 20, 10, 5]) recorder.recordMs(value);
    const summary = recorder.summary();
    expect(summary.p99).toBeLessThanOrEqual(summary.max);
    expect(summary.max).toBeCloseTo(57.433, 1);
  });

  it('reports zeros, not NaN, when nothing was recorded', () => {
    expect(new LatencyRecorder().summary()).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });

  it('merges histograms sent from other processes in encoded form', () => {
    const a = new LatencyRecorder();
    const b = new LatencyRecorder();
    a.recordMs(1);
    b.recordMs(200);
    const merged = mergeEncoded([a.encode(), b.encode()]).summary();
    expect(merged.count).toBe(2);
    expect(merged.max).toBeCloseTo(200, 0);
  });
});
