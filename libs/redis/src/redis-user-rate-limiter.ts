import { MemoryUserRateLimiter, type RateBudget, type RateDecision, type UserRateLimiter } from '@chat/core';
import { LuaScript } from './lua-script.ts';
import { closeRedis, type RedisClient } from './redis-connection.ts';

/**
 * The same bucket as MemoryUserRateLimiter's, atomically in one hash per key, timed by the Redis
 * server's clock so that every replica agrees: a Lua function `takeBudget(key, perSec, burst)`
 * returning allowed (0/1) and the wait in ms. Shared with the reserve script, which takes a send's
 * budget in the same step where it can.
 */
export const TAKE_BUDGET_LUA = `
local function takeBudget(key, perSec, burst)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local capacity = burst * 1000
  local saved = redis.call('HMGET', key, 'tokens', 'at')
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
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(at))
  redis.call('PEXPIRE', key, math.ceil(capacity / perSec) + 1000)
  return allowed, wait
end
`;

// KEYS: the bucket. ARGV: perSec, burst. Returns {allowed 0/1, retryAfterMs}.
const TAKE = new LuaScript(`${TAKE_BUDGET_LUA}
local allowed, wait = takeBudget(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
return {allowed, wait}
`);


/**
 * Buckets in Redis, one hash per key, shared by every replica. While Redis cannot answer, each
 * process counts on its own rather than refusing everything or letting everything through.
 */
export class RedisUserRateLimiter implements UserRateLimiter {
  readonly #redis: RedisClient;
  readonly #fallback = new MemoryUserRateLimiter();
  readonly #onError: ((error: unknown) => void) | undefined;
  /** The connection is another adapter's (shared to save a round of writes and reads per send): it closes it. */
  readonly #borrowed: boolean;

  /** Where the buckets are: live state on the same connection may take a budget inside its own script. */
  get connection(): RedisClient {
    return this.#redis;
  }

  constructor(redis: RedisClient, options: { onError?: (error: unknown) => void; borrowed?: boolean } = {}) {
    this.#borrowed = options.borrowed === true;
    // Sent by its digest (EVALSHA, the body only after a NOSCRIPT): a send then costs neither the
    // script's bytes on the wire nor Redis hashing them again, as an EVAL of the body every time did.
    // Not an ioredis defineCommand, which every auto-pipelined batch on the connection would copy.
    this.#redis = redis;
    this.#onError = options.onError;
  }

  async take(key: string, budget: RateBudget): Promise<RateDecision> {
    // Not connected (yet, or any more): answer now rather than wait for a reconnect.
    if (this.#redis.status !== 'ready') return this.#fallback.take(key, budget);
    try {
      const [allowed, wait] = (await TAKE.call(this.#redis, 1, [key, budget.perSec, budget.burst])) as [number, number];
      return { allowed: allowed === 1, retryAfterMs: wait };
    } catch (error) {
      this.#onError?.(error);
      return this.#fallback.take(key, budget);
    }
  }

  close(): Promise<void> {
    if (this.#borrowed) return Promise.resolve();
    return closeRedis(this.#redis);
  }
}
