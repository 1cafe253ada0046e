import { closeRedis, type RedisClient } from './redis-connection.ts';

/** A token bucket: `perSec` sustained, up to `burst` at once. */
export interface RateBudget {
  perSec: number;
  burst: number;
}

export interface RateDecision {
  allowed: boolean;
  /** When refused: how long until one more would be allowed. */
  retryAfterMs: number;
}

/**
 * Counts actions per key (a user) against a budget, shared by every process that uses the same
 * store: Redis for the services, one in-process map for the embedded mode.
 */
export interface UserRateLimiter {
  take(key: string, budget: RateBudget): Promise<RateDecision>;
  close(): Promise<void>;
}

/** The key of a user's budget for an action. The braces are a hash tag: one slot on Redis Cluster. */
export function userRateKey(action: 'sends' | 'session-creates', userId: string): string {
  return `limits:${action}:user:{${userId}}`;
}

/** Thousandths of a token, so a sustained rate in tokens per second refills `perSec` of them per millisecond. */
const ONE = 1000;

interface Bucket {
  /** In thousandths of a token. */
  tokens: number;
  at: number;
}

/** The bucket after refilling up to `now`, and whether one token could be taken from it. */
function takeFrom(bucket: Bucket | undefined, now: number, budget: RateBudget): { bucket: Bucket; decision: RateDecision } {
  const capacity = budget.burst * ONE;
  let tokens = bucket?.tokens ?? capacity;
  const at = bucket?.at ?? now;
  if (now > at) tokens = Math.min(capacity, tokens + (now - at) * budget.perSec);
  if (tokens >= ONE) return { bucket: { tokens: tokens - ONE, at: Math.max(now, at) }, decision: { allowed: true, retryAfterMs: 0 } };
  return { bucket: { tokens, at: Math.max(now, at) }, decision: { allowed: false, retryAfterMs: Math.ceil((ONE - tokens) / budget.perSec) } };
}

/** One process's buckets: the embedded mode (every gateway and the API of the process share it) and the fallback while Redis cannot answer. */
export class MemoryUserRateLimiter implements UserRateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  take(key: string, budget: RateBudget): Promise<RateDecision> {
    const now = this.#now();
    if (this.#buckets.size > 10_000) this.#forgetFull(now, budget);
    const { bucket, decision } = takeFrom(this.#buckets.get(key), now, budget);
    this.#buckets.set(key, bucket);
    return Promise.resolve(decision);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** A bucket that has refilled completely is the same as no bucket. */
  #forgetFull(now: number, budget: RateBudget): void {
    const fullAfterMs = (budget.burst * ONE) / budget.perSec;
    for (const [key, bucket] of this.#buckets) if (now - bucket.at >= fullAfterMs) this.#buckets.delete(key);
  }
}

// The same bucket as takeFrom, atomically in one hash per key, timed by the Redis server's clock so
// that every replica agrees. ARGV: perSec, burst. Returns {allowed 0/1, retryAfterMs}.
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local perSec = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2]) * 1000
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1])
local at = tonumber(saved[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * perSec)
  at = now
end
local allowed = 0
local wait = 0
if tokens >= 1000 then
  tokens = tokens - 1000
  allowed = 1
else
  wait = math.ceil((1000 - tokens) / perSec)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / perSec) + 1000)
return {allowed, wait}
`;

/**
 * Buckets in Redis, one hash per key, shared by every replica. While Redis cannot answer, each
 * process counts on its own rather than refusing everything or letting everything through.
 */
export class RedisUserRateLimiter implements UserRateLimiter {
  readonly #redis: RedisClient;
  readonly #fallback = new MemoryUserRateLimiter();
  readonly #onError: ((error: unknown) => void) | undefined;

  constructor(redis: RedisClient, options: { onError?: (error: unknown) => void } = {}) {
    this.#redis = redis;
    this.#onError = options.onError;
  }

  async take(key: string, budget: RateBudget): Promise<RateDecision> {
    // Not connected (yet, or any more): answer now rather than wait for a reconnect.
    if (this.#redis.status !== 'ready') return this.#fallback.take(key, budget);
    try {
      const [allowed, wait] = (await this.#redis.eval(TAKE, 1, key, budget.perSec, budget.burst)) as [number, number];
      return { allowed: allowed === 1, retryAfterMs: wait };
    } catch (error) {
      this.#onError?.(error);
      return this.#fallback.take(key, budget);
    }
  }

  close(): Promise<void> {
    return closeRedis(this.#redis);
  }
}
