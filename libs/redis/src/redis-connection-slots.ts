import { MemoryConnectionSlots, type ConnectionSlots, type SlotClaim } from '@chat/core';
import { hashSlot } from './hash-slot.ts';
import { LuaScript } from './lua-script.ts';
import { closeRedis, connectRedis, type RedisClient, type RedisConnectionOptions } from './redis-connection.ts';

// KEYS sorted sets holder → lease expiry (ms); ARGV holder, now, expiry, key TTL (ms), then each key's max.
// Every key is checked before any is written: a refusal under one key takes nothing under the others.
const ACQUIRE_ALL = new LuaScript(`
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2])
  if not redis.call('ZSCORE', key, ARGV[1]) and redis.call('ZCARD', key) >= tonumber(ARGV[4 + i]) then
    return 0
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[3], ARGV[1])
  redis.call('PEXPIRE', key, ARGV[4])
end
return 1
`);

export interface RedisConnectionSlotsOptions extends RedisConnectionOptions {
  /** How long a lease lives without a refresh. */
  ttlMs: number;
  now?: () => number;
}

/** Leases in one Redis sorted set per key; while Redis cannot answer, each process counts alone. */
export class RedisConnectionSlots implements ConnectionSlots {
  readonly #redis: RedisClient;
  readonly #cluster: boolean;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #fallback = new MemoryConnectionSlots();

  constructor(options: RedisConnectionSlotsOptions) {
    this.#redis = connectRedis(options);
    this.#cluster = options.cluster === true;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  acquire(key: string, holder: string, max: number): Promise<boolean> {
    return this.acquireAll(holder, [{ key, max }]);
  }

  /**
   * One script, one round trip, for every claim. Redis Cluster runs a script only on keys of one
   * slot, and the per-user and per-address keys carry different hash tags (one tag for both would put
   * every connection cap of the deployment on one master): there each slot's claims go in a call of
   * their own, side by side, and those taken are given back when another is refused.
   */
  async acquireAll(holder: string, claims: readonly SlotClaim[]): Promise<boolean> {
    if (claims.length === 0) return true;
    const groups = this.#cluster ? bySlot(claims) : [claims];
    if (groups.length === 1) return this.#acquireTogether(holder, claims);
    const taken = await Promise.all(groups.map((group) => this.#acquireTogether(holder, group)));
    if (taken.every(Boolean)) return true;
    await Promise.all(groups.flatMap((group, i) => (taken[i] === true ? group.map((claim) => this.release(claim.key, holder)) : [])));
    return false;
  }

  async #acquireTogether(holder: string, claims: readonly SlotClaim[]): Promise<boolean> {
    const now = this.#now();
    try {
      const taken = await ACQUIRE_ALL.run(
        this.#redis,
        claims.map((claim) => claim.key),
        [holder, now, now + this.#ttlMs, this.#ttlMs * 2, ...claims.map((claim) => claim.max)],
      );
      return taken === 1;
    } catch {
      return this.#fallback.acquireAll(holder, claims);
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

/** Claims grouped by their keys' cluster slot, in the order first seen. */
function bySlot(claims: readonly SlotClaim[]): SlotClaim[][] {
  const groups = new Map<number, SlotClaim[]>();
  for (const claim of claims) {
    const slot = hashSlot(claim.key);
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [claim]);
    else group.push(claim);
  }
  return [...groups.values()];
}
