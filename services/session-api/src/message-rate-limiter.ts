import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface RateDecision {
  allowed: boolean;
  /** When refused: how long until the next message would be accepted. */
  retryAfterMs: number;
}

/**
 * Per-caller limit on posted messages: `perSec` sustained, with bursts of up to `burst` in a
 * second. The extra burst allowance refills over the time the sustained rate takes to send it.
 * Counts are per process, like the gateway's per-connection limit.
 */
export class MessageRateLimiter {
  readonly #limiter: BurstyRateLimiter | RateLimiterMemory;

  constructor(options: { perSec: number; burst: number }) {
    const sustained = new RateLimiterMemory({ keyPrefix: 'rest-messages', points: options.perSec, duration: 1 });
    const extra = options.burst - options.perSec;
    this.#limiter =
      extra > 0
        ? new BurstyRateLimiter(
            sustained,
            new RateLimiterMemory({ keyPrefix: 'rest-messages-burst', points: extra, duration: Math.max(1, Math.ceil(options.burst / options.perSec)) }),
          )
        : sustained;
  }

  async take(callerId: string): Promise<RateDecision> {
    try {
      await this.#limiter.consume(callerId);
      return { allowed: true, retryAfterMs: 0 };
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) return { allowed: false, retryAfterMs: refusal.msBeforeNext };
      throw refusal;
    }
  }
}
