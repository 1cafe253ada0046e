import { MemoryConnectionSlots, type ConnectionSlots, type SlotClaim } from '@chat/core';
import { hashSlot } from './hash-slot.ts';
import { LuaScript } from './lua-script.ts';
import { closeRedis, connectRedis, type RedisClient, type RedisConnectionOptions } from './redis-connection.ts';

// KEYS sorted sets holder → lease expiry (ms); ARGV holder, now, expiry, key TTL (ms), then each key's max.
// Every key is checked before any is written: a refusal under one key takes nothing under the others.
// Answers 0 when refused, else one flag per key: 1 where the holder was not counted before this call.
const ACQUIRE_ALL = new LuaScript(`
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2])
  if not redis.call('ZSCORE', key, ARGV[1]) and redis.call('ZCARD', key) >= tonumber(ARGV[4 + i]) then
    return 0
  end
end
local fresh = {}
for i, key in ipairs(KEYS) do
  fresh[i] = redis.call('ZADD', key, ARGV[3], ARGV[1])
  redis.call('PEXPIRE', key, ARGV[4])
end
return fresh
`);

// KEYS sorted sets; ARGV lease expiry, key TTL (ms), then the holders: one line per key in KEYS'
// order, its holders separated by spaces. One argument for all of them, not one per holder: the
// client encodes each argument with several string concatenations, and a gateway refreshes tens of
// thousands of leases at a time. XX: only leases that still exist are extended; a lapsed one stays lapsed.
const REFRESH = new LuaScript(`
local i = 0
for line in string.gmatch(ARGV[3], '[^\\n]+') do
  i = i + 1
  for holder in string.gmatch(line, '%S+') do
    redis.call('ZADD', KEYS[i], 'XX', ARGV[1], holder)
  end
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return i
`);

// KEYS sorted sets; ARGV for each key the count of its holders, then the holders.
const RELEASE = new LuaScript(`
local at = 1
for _, key in ipairs(KEYS) do
  local n = tonumber(ARGV[at])
  for j = at + 1, at + n do
    redis.call('ZREM', key, ARGV[j])
  end
  at = at + n + 1
end
return 0
`);

/** What a refresh can pass in its one argument of holders. */
const PLAIN_NAME = /^\S+$/;

/** Keys per refresh or release script: a call stays short enough not to hold up other clients' commands. */
const REFRESH_CHUNK = 500;

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
  /** Holders given back in this turn of the event loop, by key; sent together at its end. */
  #releasing: Map<string, string[]> | undefined;
  #released: Promise<void> = Promise.resolve();

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
   * their own, side by side, and when another is refused those taken are given back, save the ones
   * the holder already had before this call.
   */
  async acquireAll(holder: string, claims: readonly SlotClaim[]): Promise<boolean> {
    if (claims.length === 0) return true;
    const groups = this.#cluster ? bySlot(claims) : [claims];
    const taken = await Promise.all(groups.map((group) => this.#acquireTogether(holder, group)));
    if (taken.every((fresh) => fresh !== undefined)) return true;
    await Promise.all(taken.flatMap((fresh) => (fresh ?? []).map((key) => this.release(key, holder))));
    return false;
  }

  /** The keys this call newly counted the holder under, or undefined when refused. */
  async #acquireTogether(holder: string, claims: readonly SlotClaim[]): Promise<string[] | undefined> {
    const now = this.#now();
    try {
      const answer = await ACQUIRE_ALL.run(
        this.#redis,
        claims.map((claim) => claim.key),
        [holder, now, now + this.#ttlMs, this.#ttlMs * 2, ...claims.map((claim) => claim.max)],
      );
      if (!Array.isArray(answer)) return undefined;
      return claims.filter((_claim, i) => answer[i] === 1).map((claim) => claim.key);
    } catch {
      const fresh = claims.filter((claim) => !this.#fallback.holds(claim.key, holder)).map((claim) => claim.key);
      return (await this.#fallback.acquireAll(holder, claims)) ? fresh : undefined;
    }
  }

  /**
   * The releases of one turn go out together at its end, a script per REFRESH_CHUNK keys (a cluster:
   * one ZREM per key): a mass close gave back 30,000 leases as that many commands at once. A failed
   * call is not retried: the lease lapses by itself within its TTL.
   */
  release(key: string, holder: string): Promise<void> {
    void this.#fallback.release(key, holder);
    if (this.#releasing === undefined) {
      const releasing = new Map<string, string[]>();
      this.#releasing = releasing;
      this.#released = new Promise((resolve) => {
        setImmediate(() => {
          this.#releasing = undefined;
          resolve(this.#sendReleases(releasing));
        });
      });
    }
    const holders = this.#releasing.get(key);
    if (holders === undefined) this.#releasing.set(key, [holder]);
    else holders.push(holder);
    return this.#released;
  }

  async #sendReleases(releasing: Map<string, string[]>): Promise<void> {
    if (this.#cluster) {
      await Promise.allSettled([...releasing].map(([key, holders]) => this.#redis.zrem(key, ...holders)));
      return;
    }
    await Promise.allSettled(this.#chunked(releasing, (keys, args) => RELEASE.run(this.#redis, keys, args), []));
  }

  /** One call per REFRESH_CHUNK keys, each with its keys and, after `head`, each key's count of holders and the holders. */
  #chunked(holders: Map<string, string[]>, call: (keys: string[], args: (string | number)[]) => Promise<unknown>, head: readonly (string | number)[]): Promise<unknown>[] {
    const entries = [...holders];
    const calls: Promise<unknown>[] = [];
    for (let start = 0; start < entries.length; start += REFRESH_CHUNK) {
      const chunk = entries.slice(start, start + REFRESH_CHUNK);
      const args: (string | number)[] = [...head];
      for (const [, list] of chunk) args.push(list.length, ...list);
      calls.push(call(chunk.map(([key]) => key), args));
    }
    return calls;
  }

  /**
   * Every open connection's leases, each key once: in a gateway's idle state this runs every third of
   * the TTL for all its connections, and the address keys are shared by many of them. A Redis server
   * gets one script per REFRESH_CHUNK keys; a cluster one ZADD (all of a key's holders) and one PEXPIRE
   * per key, since a cluster script may only touch one slot. A failed call is retried on the next
   * refresh; a lapsed lease only means the connection stops counting.
   */
  async refresh(holders: ReadonlyMap<string, readonly string[]>): Promise<void> {
    if (holders.size === 0) return;
    const expiry = this.#now() + this.#ttlMs;
    const keyTtl = this.#ttlMs * 2;
    for (const list of holders.values()) for (const holder of list) if (!PLAIN_NAME.test(holder)) throw new Error(`a lease holder must be a name without whitespace: ${JSON.stringify(holder)}`);
    if (this.#cluster) {
      await Promise.allSettled(
        [...holders].flatMap(([key, list]) => [this.#redis.zadd(key, 'XX', ...list.flatMap((holder) => [expiry, holder])), this.#redis.pexpire(key, keyTtl)]),
      );
      return;
    }
    const calls: Promise<unknown>[] = [];
    let keys: string[] = [];
    let lines: string[] = [];
    for (const [key, list] of holders) {
      if (list.length === 0) continue;
      keys.push(key);
      lines.push(list.length === 1 ? (list[0] ?? '') : list.join(' '));
      if (keys.length < REFRESH_CHUNK) continue;
      calls.push(REFRESH.run(this.#redis, keys, [expiry, keyTtl, lines.join('\n')]));
      keys = [];
      lines = [];
    }
    if (keys.length > 0) calls.push(REFRESH.run(this.#redis, keys, [expiry, keyTtl, lines.join('\n')]));
    await Promise.allSettled(calls);
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
