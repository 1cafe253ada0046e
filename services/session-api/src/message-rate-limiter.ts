import { MemoryUserRateLimiter, userRateKey, type RateDecision, type UserRateLimiter } from '@chat/core';

export type { RateDecision };

export interface RateLimitOptions {
  perSec: number;
  burst: number;
  /**
   * The per-user budgets of the backend: shared with the gateways' sends (Redis for the services,
   * built by @chat/composition); without one this process counts alone.
   */
  limiter?: UserRateLimiter;
}

/**
 * Per-user limit on posted messages: `perSec` sustained, bursts of up to `burst`. It draws on the
 * same per-user budget as WebSocket sends, so a user gets one send rate whichever way they send.
 */
export class MessageRateLimiter {
  readonly #limiter: UserRateLimiter;
  readonly #budget: { perSec: number; burst: number };

  constructor(options: RateLimitOptions) {
    this.#limiter = options.limiter ?? new MemoryUserRateLimiter();
    this.#budget = { perSec: options.perSec, burst: options.burst };
  }

  take(callerId: string): Promise<RateDecision> {
    return this.#limiter.take(userRateKey('sends', callerId), this.#budget);
  }
}
