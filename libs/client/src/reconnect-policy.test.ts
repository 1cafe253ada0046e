import { describe, expect, it } from '@jest/globals';
import { ReconnectPolicy } from './reconnect-policy.ts';

describe('ReconnectPolicy', () => {
  it('draws each delay below a bound that doubles up to the maximum', () => {
    const policy = new ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1_000 });
    const bounds = [100, 200, 400, 800, 1_000, 1_000];
    for (const [index, bound] of bounds.entries()) {
      const step = policy.next();
      expect(step.attempt).toBe(index + 1);
      expect(step.delayMs).toBeGreaterThanOrEqual(0);
      expect(step.delayMs).toBeLessThan(bound);
    }
  });

  it('spreads delays out instead of repeating one value (full jitter)', () => {
    const delays = new Set(Array.from({ length: 20 }, () => new ReconnectPolicy({ initialDelayMs: 10_000 }).next().delayMs));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('starts over from the first bound after a reset', () => {
    const policy = new ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 100_000 });
    for (let i = 0; i < 8; i++) policy.next();
    policy.reset();
    const step = policy.next();
    expect(step.attempt).toBe(1);
    expect(step.delayMs).toBeLessThan(100);
  });
});
