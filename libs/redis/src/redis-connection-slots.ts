import { MemoryConnectionSlots, type ConnectionSlots } from '@chat/core';
import { closeRedis, connectRedis, type RedisClient, type RedisConnectionOptions } from './redis-connection.ts';

// KEYS[1] sorted set holder → lease expiry (ms); ARGV holder, now, expiry, max, key TTL (ms).
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

export interface RedisConnectionSlotsOptions extends RedisConnectionOptions {
  /** How long a lease lives without a refresh. */
  ttlMs: number;
  now?: () => number;
}

/** Leases in one Redis sorted set per key; while Redis cannot answer, each process counts alone. */
export class RedisConnectionSlots implements ConnectionSlots {
  readonly #redis: RedisClient;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #fallback = new MemoryConnectionSlots();

  constructor(options: RedisConnectionSlotsOptions) {
    this.#redis = connectRedis(options);
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  async acquire(key: string, holder: string, max: number): Promise<boolean> {
    const now = this.#now();
    try {
      const taken = await this.#redis.eval(ACQUIRE, 1, key, holder, now, now + this.#ttlMs, max, this.#ttlMs * 2);
      return taken === 1;
    } catch {
      return this.#fallback.acquire(key, holder, max);
    }
  }

  async release(key: string, holder: string): Promise<void> {
    await this.#fallback.release(key, holder);
    try {
      await this.#redis.zrem(key, holder);
    } catch {
      // The lease lapses by itself within its TTL.
    }
  }

  async refresh(leases: readonly { key: string; holder: string }[]): Promise<void> {
    if (leases.length === 0) return;
    const expiry = this.#now() + this.#ttlMs;
    // Separate commands, not one pipeline: in Redis Cluster the keys live on different masters,
    // and auto-pipelining batches them per connection anyway. A failed one is retried on the
    // next refresh; a lapsed lease only means the connection stops counting.
    await Promise.allSettled(leases.flatMap(({ key, holder }) => [this.#redis.zadd(key, 'XX', expiry, holder), this.#redis.pexpire(key, this.#ttlMs * 2)]));
  }

  close(): Promise<void> {
    return closeRedis(this.#redis);
  }
}
