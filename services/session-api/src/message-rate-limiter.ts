import type { connectRedis } from '@chat/core';
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateDecision {
  allowed: boolean;
  /** When refused: how long until the next message would be accepted. */
  retryAfterMs: number;
}

export interface RateLimitOptions {
  perSec: number;
  burst: number;
  /**
   * An ioredis client: the counts are then shared by every replica. While it is not connected
   * each process counts on its own rather than refusing or letting everything through.
   */
  redis?: RedisClient;
}

export type RedisClient = ReturnType<typeof connectRedis>;

const KEY_PREFIX = 'ratelimit:rest-messages';

/**
 * Per-caller limit on posted messages: `perSec` sustained, with bursts of up to `burst` in a
 * second. The extra burst allowance refills over the time the sustained rate takes to send it.
 */
export class MessageRateLimiter {
  readonly #limiter: BurstyRateLimiter | RateLimiterAbstract;

  constructor(options: RateLimitOptions) {
    const sustained = counter(options.redis, { keyPrefix: KEY_PREFIX, points: options.perSec, duration: 1 });
    const extra = options.burst - options.perSec;
    const refillSeconds = Math.max(1, Math.ceil(options.burst / options.perSec));
    this.#limiter = extra > 0 ? new BurstyRateLimiter(sustained, counter(options.redis, { keyPrefix: `${KEY_PREFIX}-burst`, points: extra, duration: refillSeconds })) : sustained;
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

function counter(redis: RedisClient | undefined, options: { keyPrefix: string; points: number; duration: number }): RateLimiterAbstract {
  const memory = new RateLimiterMemory(options);
  if (redis === undefined) return memory;
  return new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory });
}
