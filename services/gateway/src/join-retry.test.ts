import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { joinRetryBudget, retryDelayMs, retryWithin } from './join-retry.ts';

/** A step that fails its first `failures` calls, then answers. */
function flaky(failures: number): { step: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    step: () => (++calls <= failures ? Promise.reject(new Error(`Command timed out (${calls})`)) : Promise.resolve('member')),
    calls: () => calls,
  };
}

describe('retryWithin', () => {
  it('answers with the first success when a step fails once within the budget', async () => {
    const { step, calls } = flaky(1);
    const retried: unknown[] = [];
    await expect(retryWithin(step, { until: Date.now() + 2_000 }, (error) => retried.push(error))).resolves.toBe('member');
    expect(calls()).toBe(2);
    expect(retried).toHaveLength(1);
  });

  it('throws the last failure, never an answer, when the budget runs out', async () => {
    const { step, calls } = flaky(Number.POSITIVE_INFINITY);
    const started = Date.now();
    await expect(retryWithin(step, { until: started + 1_000 })).rejects.toThrow(/Command timed out/);
    // Retries after 100, 200 and 400 ms fit (with 300 ms to spare for a loaded machine); one after a further 800 would not.
    expect(calls()).toBe(4);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('does not retry without a budget, nor once the socket is gone', async () => {
    const once = flaky(1);
    await expect(retryWithin(once.step, { until: 0 })).rejects.toThrow(/Command timed out/);
    expect(once.calls()).toBe(1);
    let gone = false;
    const abandoned = flaky(5);
    const attempt = retryWithin(abandoned.step, { until: Date.now() + 5_000, abandoned: () => gone });
    gone = true;
    await expect(attempt).rejects.toThrow(/Command timed out/);
    expect(abandoned.calls()).toBe(1);
  });

  it('spends at most half the welcome budget on retries, with delays that grow and stay bounded', () => {
    expect(joinRetryBudget(5_000, undefined, 1_000).until).toBe(3_500);
    fc.assert(
      fc.property(fc.nat(40), (retry) => {
        expect(retryDelayMs(retry)).toBeGreaterThanOrEqual(100);
        expect(retryDelayMs(retry)).toBeLessThanOrEqual(800);
        expect(retryDelayMs(retry + 1)).toBeGreaterThanOrEqual(retryDelayMs(retry));
      }),
    );
  });
});
