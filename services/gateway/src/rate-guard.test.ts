import { describe, expect, it } from '@jest/globals';
import { RateGuard } from './rate-guard.ts';

describe('RateGuard', () => {
  it('allows a full burst at once, then limits, then tells a client that keeps pushing to go', () => {
    const guard = new RateGuard({ ratePerSec: 1, burst: 3 });
    expect([guard.take(), guard.take(), guard.take()]).toEqual(['ok', 'ok', 'ok']);
    expect([guard.take(), guard.take(), guard.take()]).toEqual(['limited', 'limited', 'limited']);
    expect(guard.take()).toBe('exceeded');
  });

  it('refills at the configured rate', async () => {
    const guard = new RateGuard({ ratePerSec: 50, burst: 1 });
    expect(guard.take()).toBe('ok');
    expect(guard.take()).toBe('limited');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(guard.take()).toBe('ok');
  });
});
