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
