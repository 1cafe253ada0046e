import type { ChatMessage } from '@chat/protocol';
import { presenceEventPayload, type AdoptInput, type MemberJoin, type MembershipAnswer, type PresenceEntry, type Reservation, type ReserveInput, type SessionRecord, type SessionState, type UserRateLimiter } from '@chat/core';
import { hashSlot } from './hash-slot.ts';
import { sessionChannel } from './redis-bus.ts';
import { closeRedis, connectRedis, type RedisClient, type RedisConnectionOptions } from './redis-connection.ts';
import { LuaScript } from './lua-script.ts';
import { RedisUserRateLimiter, TAKE_BUDGET_LUA } from './redis-user-rate-limiter.ts';

export interface RedisSessionStateOptions extends RedisConnectionOptions {
  /** RECENT_MESSAGES: how many committed messages the recent list keeps. */
  recentMessages: number;
  /**
   * How long a (user, clientMsgId) stays de-duplicated at least; 24 h by default. Entries live in
   * time buckets of this length, so one is forgotten between one and two of these after its write.
   */
  dedupeTtlSeconds?: number;
  /** Clock for presence leases; injectable so tests can expire them. */
  now?: () => number;
  /**
   * Cluster only: how long a reservation waits (WAIT) for its master's replica to have it, so a
   * failover right after an ack does not promote a replica that hands the same seq out again.
   */
  replicaWaitMs?: number;
  /**
   * Publish each first commit on the session's bus channel (RedisBus's, on this same Redis) from
   * the commit script itself: one command per send instead of a commit and a publish.
   */
  publishCommits?: boolean;
  /**
   * Publish a user's join (first connection) and leave (last one gone) on the session's bus channel
   * from the presence scripts themselves, as publishCommits does for messages: one command fewer
   * per connect and per close.
   */
  publishPresence?: boolean;
}

/**
 * Every key of one session. The braces are literal: they make Redis Cluster hash only the id,
 * so all of a session's keys share a slot and one Lua script may touch them together.
 */
export function sessionKeys(sessionId: string) {
  const base = `sessions:{${sessionId}}`;
  return {
    messages: `${base}:messages`,
    users: `${base}:users`,
    metadata: `${base}:metadata`,
    /** sorted set connectionId, scored by lease expiry (ms) */
    presence: `${base}:presence`,
    /** hash connectionId → userId */
    presenceConnections: `${base}:presence:connections`,
    /** hash userId → number of connections, so join/leave need not scan every connection */
    presenceCounts: `${base}:presence:counts`,
    /** hash userId → userName */
    presenceNames: `${base}:presence:names`,
    /** hash userId → ms when the user last had a chat socket open (for unread-while-offline) */
    lastConnected: `${base}:presence:seen`,
    /** hash seq → JSON of a message whose failed publish waits for a seal */
    seals: `${base}:seals`,
  };
}

/**
 * The de-duplication hash (`<userId>:<clientMsgId>` → `id|seq|timestamp|committed(0/1)`) of one
 * time bucket. Buckets rather than one hash with a refreshed TTL keep a busy session's entries from
 * piling up forever (Redis 7.0 has no per-field expiry): lookups read the current and previous bucket.
 */
export function dedupeKey(sessionId: string, bucket: number): string {
  return `sessions:{${sessionId}}:dedupe:${String(bucket)}`;
}

/**
 * How long a session's pending seals outlive the newest of them: JetStream's two-minute duplicate
 * window. The intake makes a seal only within half of it and drops older ones, so nothing expires
 * here that would still be made; a session with no later send no longer keeps the hash for good.
 */
const SEALS_TTL_MS = 120_000;

// Shared by the presence scripts: drop one connection of a user; true when it was the user's last.
const DROP_CONNECTION = `
local function drop(countsKey, namesKey, user)
  local left = redis.call('HINCRBY', countsKey, user, -1)
  if left <= 0 then
    redis.call('HDEL', countsKey, user)
    redis.call('HDEL', namesKey, user)
    return true
  end
  return false
end
-- Removes leases that expired at or before now; returns the users left without any connection.
local function expire(presenceKey, connectionsKey, countsKey, namesKey, now)
  local gone = {}
  for _, connection in ipairs(redis.call('ZRANGEBYSCORE', presenceKey, '-inf', now)) do
    redis.call('ZREM', presenceKey, connection)
    local user = redis.call('HGET', connectionsKey, connection)
    redis.call('HDEL', connectionsKey, connection)
    if user and drop(countsKey, namesKey, user) then gone[#gone + 1] = user end
  end
  return gone
end
`;

// Recent-list entries are stored with seq as their first JSON field, so scripts can read it cheaply.
const SEQ_OF = `
local function seqOf(entry) return tonumber(string.match(entry, '^{"seq":(%d+)')) end
`;

const SCRIPTS = {
  // One script so the session never looks live (metadata present) before its members are in,
  // and so the head is raised, never lowered, with no reserve slipping in between read and write.
  // A session that had messages yet was not live lost its de-duplication entries with its live
  // state: restoredAt makes reserve() send keys it does not know to the store for a while.
  // KEYS: metadata, users. ARGV: head, createdAt, title (JSON), metadata (JSON), now (ms), members...
  chatHydrate: {
    numberOfKeys: 2,
    lua: `
local fresh = redis.call('EXISTS', KEYS[1]) == 0
for i = 6, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
local head = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local wanted = tonumber(ARGV[1])
if wanted > head then head = wanted end
redis.call('HSET', KEYS[1], 'seq', head, 'createdAt', ARGV[2], 'title', ARGV[3], 'metadata', ARGV[4])
if fresh and head > 0 then redis.call('HSET', KEYS[1], 'restoredAt', ARGV[5]) end
return head`,
  },
  // One command for the check every read and send makes: as atomic as MULTI (a concurrent remove()
  // cannot fall between the two reads), at a quarter of the commands.
  // KEYS: metadata, users. ARGV: user. Returns -1 when the session is not live, else SISMEMBER's 0 or 1.
  chatMembership: {
    numberOfKeys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('SISMEMBER', KEYS[2], ARGV[1])`,
  },
  // Adds members only to a live session, so a late call after remove() leaves no orphan key.
  // KEYS: metadata, users. ARGV: members...
  chatAddMembers: {
    numberOfKeys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
return 1`,
  },
  // Atomic so two sends of the same clientMsgId can never both get a fresh seq, and seqs stay gapless.
  // Pending seals come back with the seq, so a later send learns of them in the same step.
  // A fifth key is the sender's budget (standalone Redis only: it is in the user's slot, not the
  // session's), taken first: a refusal returns before anything else is read or written.
  // KEYS: metadata, current dedupe bucket, previous bucket, seals[, budget].
  // ARGV: dedupe field, id, timestamp, bucket TTL seconds, now (ms), restored window (ms), durable checked (0/1)[, perSec, burst].
  // Returns {status, value, pending seal JSON...}.
  chatReserve: {
    numberOfKeys: 4,
    lua: `${TAKE_BUDGET_LUA}
if KEYS[5] then
  local allowed, wait = takeBudget(KEYS[5], tonumber(ARGV[8]), tonumber(ARGV[9]))
  if allowed == 0 then return {'rate_limited', wait} end
end
-- One read for liveness and the restore mark: a live session's metadata always holds its seq.
local meta = redis.call('HMGET', KEYS[1], 'seq', 'restoredAt', 'repeated')
if not meta[1] then return {'unknown_session'} end
local function withSeals(reply)
  for _, seal in ipairs(redis.call('HVALS', KEYS[4])) do reply[#reply + 1] = seal end
  return reply
end
local seen = redis.call('HGET', KEYS[2], ARGV[1]) or redis.call('HGET', KEYS[3], ARGV[1])
if seen then
  -- A repeat of a send not committed yet may publish at its seq: that seq can no longer be released.
  if string.sub(seen, -2) == '|0' then
    local seq = tonumber(string.match(seen, '^[^|]*|([^|]*)|'))
    if seq and seq > tonumber(meta[3] or '0') then redis.call('HSET', KEYS[1], 'repeated', seq) end
  end
  return withSeals({'duplicate', seen})
end
if ARGV[7] ~= '1' then
  local restored = meta[2]
  if restored and tonumber(ARGV[5]) - tonumber(restored) < tonumber(ARGV[6]) then return {'restored'} end
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '|' .. seq .. '|' .. ARGV[3] .. '|0')
redis.call('EXPIRE', KEYS[2], ARGV[4])
return withSeals({'reserved', seq})`,
  },
  // Atomic so the seq is given back only while nothing came after it (head still its seq, its entry
  // still its own message and uncommitted), and the key then answers with the first message from
  // the current bucket on.
  // KEYS: metadata, current dedupe bucket, previous bucket.
  // ARGV: dedupe field, first message's entry, unused id, unused seq ('' for none), bucket TTL seconds.
  // Returns 1 released, 2 kept (this attempt's, not the head), 0 neither.
  chatAdopt: {
    numberOfKeys: 3,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local released = 0
if ARGV[4] ~= '' then
  local head = tonumber(redis.call('HGET', KEYS[1], 'seq') or '-1')
  local seen = redis.call('HGET', KEYS[2], ARGV[1]) or redis.call('HGET', KEYS[3], ARGV[1])
  if seen then
    local id, seq, committed = string.match(seen, '^([^|]*)|([^|]*)|.*|([01])$')
    if id == ARGV[3] and tonumber(seq) == tonumber(ARGV[4]) and committed == '0' then
      if head == tonumber(ARGV[4]) then
        redis.call('HSET', KEYS[1], 'seq', head - 1)
        released = 1
      else
        released = 2
      end
    end
  end
end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return released`,
  },
  // Atomic so the seq goes back only while nothing came after it (head still its seq), no repeat
  // was answered with it (metadata 'repeated', the highest such seq: the repeat may be publishing
  // it), and its entry is still this message's and uncommitted; the entry goes with it, so the key
  // is as if never sent.
  // KEYS: metadata, current dedupe bucket, previous bucket. ARGV: dedupe field, id, seq.
  // Returns 1 given back, 0 not.
  chatRelease: {
    numberOfKeys: 3,
    lua: `
local meta = redis.call('HMGET', KEYS[1], 'seq', 'repeated')
local head = tonumber(meta[1] or '-1')
if head ~= tonumber(ARGV[3]) or head <= tonumber(meta[2] or '0') then return 0 end
for i = 2, 3 do
  local seen = redis.call('HGET', KEYS[i], ARGV[1])
  if seen then
    local id, seq, committed = string.match(seen, '^([^|]*)|([^|]*)|.*|([01])$')
    if id ~= ARGV[2] or tonumber(seq) ~= head or committed ~= '0' then return 0 end
    redis.call('HSET', KEYS[1], 'seq', head - 1)
    redis.call('HDEL', KEYS[i], ARGV[1])
    return 1
  end
end
return 0`,
  },
  // Atomic so only this message's own uncommitted entry goes, never a later attempt's or a committed one.
  // KEYS: current dedupe bucket, previous bucket. ARGV: dedupe field, id.
  chatForget: {
    numberOfKeys: 2,
    lua: `
for i = 1, 2 do
  local seen = redis.call('HGET', KEYS[i], ARGV[1])
  if seen then
    local id, committed = string.match(seen, '^([^|]*)|.*|([01])$')
    if id == ARGV[2] and committed == '0' then redis.call('HDEL', KEYS[i], ARGV[1]) end
    return 0
  end
end
return 0`,
  },
  // Atomic so concurrent commits of one message (a retry racing the first attempt) fan out once.
  // Messages commit slightly out of seq order under concurrency; the few entries with a higher seq
  // are lifted off the tail and put back after the new one, so the list stays sorted by seq and
  // recent() can stop reading at the first older entry. Capping then drops the lowest seqs.
  // Whatever is committed at a seq settles a pending seal there. A first commit is published on the
  // session's channel (it shares the session's slot) when one is given, so it is fanned out once.
  // KEYS: metadata, current dedupe bucket, previous bucket, messages, seals.
  // ARGV: dedupe field, id, seq, timestamp, message JSON, cap, bucket TTL seconds, channel ('' for none).
  chatCommit: {
    numberOfKeys: 5,
    lua: `${SEQ_OF}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[5], ARGV[3])
local current = redis.call('HGET', KEYS[2], ARGV[1])
local seen = current or redis.call('HGET', KEYS[3], ARGV[1])
if seen and string.sub(seen, -2) == '|1' then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[4] .. '|1')
-- A bucket that held the entry got its expiry from that write in its own period (every write
-- sets one), which already keeps it through the next: only a bucket new to the entry needs it.
if not current then redis.call('EXPIRE', KEYS[2], ARGV[7]) end
local seq, later = tonumber(ARGV[3]), {}
while true do
  local last = redis.call('LINDEX', KEYS[4], -1)
  if not last or (seqOf(last) or -1) <= seq then break end
  later[#later + 1] = redis.call('RPOP', KEYS[4])
end
redis.call('RPUSH', KEYS[4], ARGV[5])
for i = #later, 1, -1 do redis.call('RPUSH', KEYS[4], later[i]) end
redis.call('LTRIM', KEYS[4], -tonumber(ARGV[6]), -1)
if ARGV[8] ~= '' then redis.call('SPUBLISH', ARGV[8], ARGV[5]) end
return 1`,
  },
  // Only on a live session, so a late call after remove() leaves no orphan key. The hash expires
  // SEALS_TTL_MS after its newest seal: older seals are only ever dropped, never made.
  // KEYS: metadata, seals. ARGV: seq, message JSON, ttl ms.
  chatHoldSeal: {
    numberOfKeys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1`,
  },
  // Reads from the newest end in pages and stops at the first entry at or below afterSeq, so a
  // reconnect that missed three messages costs three entries, not the whole list. Entries not in
  // the seq-first form are passed on for the caller to filter.
  // KEYS: messages. ARGV: afterSeq.
  chatRecent: {
    numberOfKeys: 1,
    readOnly: true,
    lua: `${SEQ_OF}
local after, out, page, stop = tonumber(ARGV[1]), {}, 64, 0
while stop == 0 do
  local from = -(#out + page)
  local entries = redis.call('LRANGE', KEYS[1], from, -(#out + 1))
  if #entries < page then stop = 1 end
  for i = #entries, 1, -1 do
    local seq = seqOf(entries[i])
    if seq ~= nil and seq <= after then stop = 1 break end
    out[#out + 1] = entries[i]
  end
end
return out`,
  },
  // A chat socket's whole check once subscribed, in one round trip: the session is live, the user
  // still a member (unless ARGV[5] is '1': admins need no membership), the head it starts from, and
  // then the join itself. Atomic, so a member removed before it cannot join, and one removed after
  // it is told by the member_removed event the socket is already subscribed to. Stale leases are
  // expired before the join (as the in-process state does), so a crashed replica's leftover
  // connection cannot make a returning user look present already; the user's last-connected time
  // is noted in the same call.
  // KEYS: metadata, users, presence, connections, counts, names, lastConnected.
  // ARGV: connectionId, userId, now, expiresAt, anyone (0/1), userName or '', then the channel ('' publishes nothing) and the join event.
  // Returns {-1 | 0 | 1 as chatMembership, seq or '', 1 when joined as the user's first connection else 0, 1 when joined}.
  chatPresenceJoinMember: {
    numberOfKeys: 7,
    lua: `${DROP_CONNECTION}
local seq = redis.call('HGET', KEYS[1], 'seq') or ''
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, seq, 0, 0} end
local member = redis.call('SISMEMBER', KEYS[2], ARGV[2])
if member == 0 and ARGV[5] ~= '1' then return {0, seq, 0, 0} end
redis.call('HSET', KEYS[7], ARGV[2], ARGV[3])
expire(KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[3])
local previous = redis.call('HGET', KEYS[4], ARGV[1])
local first = false
if previous ~= ARGV[2] then
  if previous then drop(KEYS[5], KEYS[6], previous) end
  first = redis.call('HINCRBY', KEYS[5], ARGV[2], 1) == 1
end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[6], ARGV[2], ARGV[6]) end
if not first then return {member, seq, 0, 1} end
if ARGV[7] ~= '' then redis.call('SPUBLISH', ARGV[7], ARGV[8]) end
return {member, seq, 1, 1}`,
  },
  // Any number of a session's connections leave in one call (a mass close is one command per
  // session, not one per connection). KEYS: presence, connections, counts, names, lastConnected.
  // ARGV: now, the channel ('' publishes nothing), then per connection: connectionId, userId and its
  // leave event. Returns one flag per connection: 1 when it was its user's last.
  chatPresenceLeave: {
    numberOfKeys: 5,
    lua: `${DROP_CONNECTION}
local out = {}
for i = 3, #ARGV, 3 do
  local connection, userId = ARGV[i], ARGV[i + 1]
  redis.call('HSET', KEYS[5], userId, ARGV[1])
  local user = redis.call('HGET', KEYS[2], connection)
  local last = 0
  if user then
    redis.call('ZREM', KEYS[1], connection)
    redis.call('HDEL', KEYS[2], connection)
    if drop(KEYS[3], KEYS[4], user) then
      last = 1
      if ARGV[2] ~= '' then redis.call('SPUBLISH', ARGV[2], ARGV[i + 2]) end
    end
  end
  out[#out + 1] = last
end
return out`,
  },
  // A session's presence leases extended, each connection's user noted as seen. The ids come in two
  // arguments, space-separated and in the same order, not two per connection: the client encodes
  // each argument with several string concatenations, and a gateway refreshes all its connections
  // at once. XX: only leases that still exist are extended; a swept connection must join again.
  // KEYS: presence, lastConnected. ARGV: lease expiry, now, connection ids, their user ids.
  chatPresenceRefresh: {
    numberOfKeys: 2,
    lua: `
local leases, seen = {'XX'}, {}
local function flush()
  if #leases > 1 then redis.call('ZADD', KEYS[1], unpack(leases)) end
  if #seen > 0 then redis.call('HSET', KEYS[2], unpack(seen)) end
  leases, seen = {'XX'}, {}
end
for connection in string.gmatch(ARGV[3], '%S+') do
  leases[#leases + 1] = ARGV[1]
  leases[#leases + 1] = connection
  if #leases > 1000 then flush() end
end
for user in string.gmatch(ARGV[4], '%S+') do
  seen[#seen + 1] = user
  seen[#seen + 1] = ARGV[2]
  if #seen >= 1000 then flush() end
end
flush()
return 0`,
  },
  // KEYS: presence, connections, counts, names. ARGV: now.
  chatPresenceSweep: {
    numberOfKeys: 4,
    lua: `${DROP_CONNECTION}
return expire(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1])`,
  },
  // One round trip for "who is online": users of unexpired leases, each with '=' .. name or '-'.
  // KEYS: presence, connections, names. ARGV: now.
  chatPresenceOnline: {
    numberOfKeys: 3,
    readOnly: true,
    lua: `
local seen, out = {}, {}
for _, connection in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')) do
  local user = redis.call('HGET', KEYS[2], connection)
  if user and not seen[user] then
    seen[user] = true
    local name = redis.call('HGET', KEYS[3], user)
    out[#out + 1] = user
    if name then out[#out + 1] = '=' .. name else out[#out + 1] = '-' end
  end
end
return out`,
  },
} as const;

type ScriptArgument = string | number;

/** Connections of one session per leave script: a call stays short enough not to hold up other clients' commands. */
const LEAVE_CHUNK = 200;

/** Positions of the entries of each session, in order. */
function indexesBySession(entries: readonly PresenceEntry[]): Map<string, number[]> {
  const bySession = new Map<string, number[]>();
  entries.forEach((entry, i) => {
    const list = bySession.get(entry.sessionId);
    if (list === undefined) bySession.set(entry.sessionId, [i]);
    else list.push(i);
  });
  return bySession;
}
type Scripts = { [name in keyof typeof SCRIPTS]: (...keysAndArgs: ScriptArgument[]) => Promise<unknown> };

/**
 * The scripts as plain EVALSHA calls (LuaScript), not ioredis `defineCommand`s: every auto-pipelined
 * batch (a cluster's) is a new ioredis Pipeline, which copies each defined command of its connection
 * onto itself, about 4 µs of the three batches of every send when there were fifteen scripts.
 */
function bindScripts(redis: RedisClient): Scripts {
  const bound: Partial<Record<keyof typeof SCRIPTS, (...keysAndArgs: ScriptArgument[]) => Promise<unknown>>> = {};
  for (const name of Object.keys(SCRIPTS) as (keyof typeof SCRIPTS)[]) {
    const { numberOfKeys, lua } = SCRIPTS[name];
    const script = new LuaScript(lua);
    bound[name] = (...keysAndArgs) => script.call(redis, numberOfKeys, keysAndArgs);
  }
  return bound as Scripts;
}

/** One field of every entry, space-separated, for a script that splits them; ids never hold whitespace. */
function spaced(entries: readonly PresenceEntry[], field: 'connectionId' | 'userId'): string {
  let joined = '';
  for (const entry of entries) {
    const id = entry[field];
    if (!PLAIN_ID.test(id)) throw new Error(`a presence ${field} must be an id without whitespace: ${JSON.stringify(id)}`);
    joined = joined === '' ? id : `${joined} ${id}`;
  }
  return joined;
}

const PLAIN_ID = /^\S+$/;

/** Thrown when Redis answers something the scripts never return: a bug or a foreign key layout. */
export class LiveStateCorruptError extends Error {
  override name = 'LiveStateCorruptError';
}

/** Live session state in Redis (the live state of docs/protocol.md, "Storage"); same semantics as MemorySessionState. */
export class RedisSessionState implements SessionState {
  readonly #redis: RedisClient;
  readonly #scripts: Scripts;
  /** The reserve script on its own: it takes four keys, or five with a budget. */
  readonly #reserve: LuaScript;
  readonly #recentCap: number;
  readonly #dedupeBucketMs: number;
  readonly #now: () => number;
  readonly #replicaWaitMs: number;
  readonly #cluster: boolean;
  readonly publishesCommits: boolean;
  readonly publishesPresence: boolean;

  constructor(options: RedisSessionStateOptions) {
    this.publishesCommits = options.publishCommits === true;
    this.publishesPresence = options.publishPresence === true;
    this.#cluster = options.cluster === true;
    this.#replicaWaitMs = options.cluster === true ? (options.replicaWaitMs ?? 50) : 0;
    this.#redis = connectRedis({ connectionName: 'chat-state', ...options });
    this.#scripts = bindScripts(this.#redis);
    this.#reserve = new LuaScript(SCRIPTS.chatReserve.lua);
    this.#recentCap = options.recentMessages;
    this.#dedupeBucketMs = (options.dedupeTtlSeconds ?? 24 * 60 * 60) * 1_000;
    this.#now = options.now ?? Date.now;
  }

  async hydrate(session: SessionRecord, headSeq: number): Promise<void> {
    const keys = sessionKeys(session.id);
    await this.#scripts.chatHydrate(keys.metadata, keys.users, headSeq, session.createdAt, JSON.stringify(session.title), JSON.stringify(session.metadata), this.#now(), ...session.members);
  }

  async membership(sessionId: string, userId: string): Promise<MembershipAnswer> {
    const keys = sessionKeys(sessionId);
    const answer = await this.#scripts.chatMembership(keys.metadata, keys.users, userId);
    if (answer === -1) return 'unknown_session';
    return answer === 1 ? 'member' : 'not_member';
  }

  async exists(sessionId: string): Promise<boolean> {
    return (await this.#redis.exists(sessionKeys(sessionId).metadata)) === 1;
  }

  async addMembers(sessionId: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const keys = sessionKeys(sessionId);
    await this.#scripts.chatAddMembers(keys.metadata, keys.users, ...userIds);
  }

  async removeMember(sessionId: string, userId: string): Promise<void> {
    await this.#redis.srem(sessionKeys(sessionId).users, userId);
  }

  async remove(sessionId: string): Promise<void> {
    // One DEL of the known keys: atomic, and no KEYS/SCAN over the keyspace. The buckets around
    // now cover replicas whose clocks differ a little; any older one expires by itself.
    const bucket = this.#bucket();
    const buckets = [bucket - 2, bucket - 1, bucket, bucket + 1].map((at) => dedupeKey(sessionId, at));
    await this.#redis.del(...Object.values(sessionKeys(sessionId)), ...buckets);
  }

  async head(sessionId: string): Promise<number | null> {
    const seq = await this.#redis.hget(sessionKeys(sessionId).metadata, 'seq');
    return seq === null ? null : Number(seq);
  }

  takesBudgetsOf(limiter: UserRateLimiter): boolean {
    return !this.#cluster && limiter instanceof RedisUserRateLimiter && limiter.connection === this.#redis;
  }

  async reserve(input: ReserveInput): Promise<Reservation> {
    const keys = sessionKeys(input.sessionId);
    const { budget } = input;
    const [current, previous] = this.#dedupeKeys(input.sessionId);
    const args = [`${input.userId}:${input.clientMsgId}`, input.id, input.timestamp, this.#bucketTtlSeconds(), this.#now(), 2 * this.#dedupeBucketMs, input.durableChecked === true ? 1 : 0];
    const reply = budget === undefined ? await this.#reserve.call(this.#redis, 4, [keys.metadata, current, previous, keys.seals, ...args]) : await this.#reserve.call(this.#redis, 5, [keys.metadata, current, previous, keys.seals, budget.key, ...args, budget.perSec, budget.burst]);
    if (!Array.isArray(reply)) throw new LiveStateCorruptError(`unexpected reserve reply ${String(reply)}`);
    const [status, value, ...seals] = reply as unknown[];
    if (status === 'rate_limited' && typeof value === 'number') return { status: 'rate_limited', retryAfterMs: value };
    if (status === 'unknown_session') return { status: 'unknown_session' };
    if (status === 'restored') return { status: 'restored' };
    const pending = seals.length === 0 ? {} : { pendingSeals: stringArray(seals).map((json) => JSON.parse(json) as ChatMessage).sort((a, b) => a.seq - b.seq) };
    if (status === 'reserved' && typeof value === 'number') {
      await this.#replicated(keys.metadata);
      return { status: 'reserved', seq: value, ...pending };
    }
    if (status === 'duplicate' && typeof value === 'string') return { status: 'duplicate', ...parseDedupeEntry(value), ...pending };
    throw new LiveStateCorruptError(`unexpected reserve reply ${JSON.stringify(reply)}`);
  }

  async adopt(input: AdoptInput): Promise<'released' | 'kept' | 'none'> {
    const keys = sessionKeys(input.sessionId);
    const { first, unused } = input;
    const entry = `${first.id}|${String(first.seq)}|${first.timestamp}|1`;
    const reply = await this.#scripts.chatAdopt(keys.metadata, ...this.#dedupeKeys(input.sessionId), `${input.userId}:${input.clientMsgId}`, entry, unused?.id ?? '', unused?.seq ?? '', this.#bucketTtlSeconds());
    return reply === 1 ? 'released' : reply === 2 ? 'kept' : 'none';
  }

  async release(input: { sessionId: string; userId: string; clientMsgId: string; id: string; seq: number }): Promise<boolean> {
    const keys = sessionKeys(input.sessionId);
    return (await this.#scripts.chatRelease(keys.metadata, ...this.#dedupeKeys(input.sessionId), `${input.userId}:${input.clientMsgId}`, input.id, input.seq)) === 1;
  }

  async forget(input: { sessionId: string; userId: string; clientMsgId: string; id: string }): Promise<void> {
    await this.#scripts.chatForget(...this.#dedupeKeys(input.sessionId), `${input.userId}:${input.clientMsgId}`, input.id);
  }

  async holdSeal(message: ChatMessage): Promise<void> {
    const keys = sessionKeys(message.sessionId);
    await this.#scripts.chatHoldSeal(keys.metadata, keys.seals, message.seq, JSON.stringify(message), SEALS_TTL_MS);
  }

  async clearSeal(sessionId: string, seq: number): Promise<void> {
    await this.#redis.hdel(sessionKeys(sessionId).seals, String(seq));
  }

  async commit(message: ChatMessage): Promise<boolean> {
    const keys = sessionKeys(message.sessionId);
    const field = `${message.userId}:${message.clientMsgId ?? message.id}`;
    // seq first, for the chatRecent match.
    const { seq, ...rest } = message;
    const json = JSON.stringify({ seq, ...rest });
    const reply = await this.#scripts.chatCommit(keys.metadata, ...this.#dedupeKeys(message.sessionId), keys.messages, keys.seals, field, message.id, message.seq, message.timestamp, json, this.#recentCap, this.#bucketTtlSeconds(), this.publishesCommits ? sessionChannel(message.sessionId) : '');
    return reply === 1;
  }

  async recent(sessionId: string, afterSeq: number): Promise<ChatMessage[]> {
    const raw = stringArray(await this.#scripts.chatRecent(sessionKeys(sessionId).messages, afterSeq));
    return raw
      .map((json) => JSON.parse(json) as ChatMessage)
      .filter((message) => message.seq > afterSeq)
      .sort((a, b) => a.seq - b.seq);
  }

  async presenceJoinMember(entry: PresenceEntry, ttlMs: number, anyone: boolean): Promise<MemberJoin> {
    const keys = sessionKeys(entry.sessionId);
    const now = this.#now();
    const reply = await this.#scripts.chatPresenceJoinMember(keys.metadata, keys.users, keys.presence, keys.presenceConnections, keys.presenceCounts, keys.presenceNames, keys.lastConnected, entry.connectionId, entry.userId, now, now + ttlMs, anyone ? 1 : 0, entry.userName ?? '', ...this.#presenceEvent('join', entry));
    if (!Array.isArray(reply) || reply.length !== 4) throw new LiveStateCorruptError(`unexpected presence join reply ${JSON.stringify(reply)}`);
    const [answer, seq, first, joined] = reply as [number, string, number, number];
    return { membership: answer === -1 ? 'unknown_session' : answer === 1 ? 'member' : 'not_member', head: seq === '' ? null : Number(seq), joined: joined === 1, first: first === 1 };
  }

  async presenceLeave(entries: readonly PresenceEntry[]): Promise<boolean[]> {
    const last = new Array<boolean>(entries.length).fill(false);
    const calls: Promise<void>[] = [];
    for (const [sessionId, indexes] of indexesBySession(entries)) {
      const keys = sessionKeys(sessionId);
      const channel = this.publishesPresence ? sessionChannel(sessionId) : '';
      for (let start = 0; start < indexes.length; start += LEAVE_CHUNK) {
        const chunk = indexes.slice(start, start + LEAVE_CHUNK);
        const args: ScriptArgument[] = [keys.presence, keys.presenceConnections, keys.presenceCounts, keys.presenceNames, keys.lastConnected, this.#now(), channel];
        for (const i of chunk) {
          const entry = entries[i] as PresenceEntry;
          args.push(entry.connectionId, entry.userId, channel === '' ? '' : presenceEventPayload('leave', entry));
        }
        calls.push(
          this.#scripts.chatPresenceLeave(...args).then((reply) => {
            if (!Array.isArray(reply) || reply.length !== chunk.length) throw new LiveStateCorruptError(`unexpected presence leave reply ${JSON.stringify(reply)}`);
            chunk.forEach((i, n) => (last[i] = reply[n] === 1));
          }),
        );
      }
    }
    await Promise.all(calls);
    return last;
  }

  /** The channel and payload a presence script publishes, or '' and '' when it publishes nothing. */
  #presenceEvent(type: 'join' | 'leave', entry: PresenceEntry): [string, string] {
    return this.publishesPresence ? [sessionChannel(entry.sessionId), presenceEventPayload(type, entry)] : ['', ''];
  }

  async presenceRefresh(entries: readonly PresenceEntry[], ttlMs: number): Promise<void> {
    const expiresAt = this.#now() + ttlMs;
    // XX: only extend leases that still exist; a swept connection must join again.
    const now = this.#now();
    // One ZADD and one HSET per session, not per connection: a gateway refreshes all its connections at once.
    const bySession = new Map<string, PresenceEntry[]>();
    for (const entry of entries) {
      const list = bySession.get(entry.sessionId);
      if (list === undefined) bySession.set(entry.sessionId, [entry]);
      else list.push(entry);
    }
    const calls: Promise<unknown>[] = [];
    for (const [sessionId, list] of bySession) {
      const keys = sessionKeys(sessionId);
      calls.push(this.#scripts.chatPresenceRefresh(keys.presence, keys.lastConnected, expiresAt, now, spaced(list, 'connectionId'), spaced(list, 'userId')));
    }
    await Promise.all(calls);
  }

  async members(sessionId: string): Promise<string[] | null> {
    const keys = sessionKeys(sessionId);
    const [live, members] = execResults(await this.#redis.multi().exists(keys.metadata).smembers(keys.users).exec());
    return live === 0 ? null : (members as string[]);
  }

  async lastConnected(sessionId: string): Promise<Map<string, number>> {
    const seen = await this.#redis.hgetall(sessionKeys(sessionId).lastConnected);
    return new Map(Object.entries(seen).map(([userId, ms]) => [userId, Number(ms)]));
  }

  async presenceOnline(sessionId: string): Promise<{ userId: string; userName?: string }[]> {
    const keys = sessionKeys(sessionId);
    const reply = stringArray(await this.#scripts.chatPresenceOnline(keys.presence, keys.presenceConnections, keys.presenceNames, this.#now()));
    const online: { userId: string; userName?: string }[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const userId = reply[i] ?? '';
      const name = reply[i + 1] ?? '-';
      online.push(name.startsWith('=') ? { userId, userName: name.slice(1) } : { userId });
    }
    return online;
  }

  async presenceSweep(sessionId: string): Promise<string[]> {
    const keys = sessionKeys(sessionId);
    return stringArray(await this.#scripts.chatPresenceSweep(keys.presence, keys.presenceConnections, keys.presenceCounts, keys.presenceNames, this.#now()));
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  /**
   * Per-user budgets on this state's connection: a send takes its budget and then reserves, and
   * the commands of many sends in one turn then share one write and one read (batched per turn)
   * instead of one on each of two connections. Closed with this state, not by the limiter.
   */
  rateLimiter(options: { onError?: (error: unknown) => void } = {}): RedisUserRateLimiter {
    return new RedisUserRateLimiter(this.#redis, { ...options, borrowed: true });
  }

  close(): Promise<void> {
    return closeRedis(this.#redis);
  }

  /**
   * Redis replicates asynchronously: a master killed right after a reserve may be replaced by a
   * replica that never saw it. WAIT on the connection that wrote narrows that to a replica that
   * stays behind for longer than replicaWaitMs; a master with no replica left answers at once.
   */
  async #replicated(key: string): Promise<void> {
    if (this.#replicaWaitMs === 0 || !('slots' in this.#redis)) return;
    const owner = this.#redis.slots[hashSlot(key)]?.[0];
    const node = this.#redis.nodes('master').find((candidate) => `${String(candidate.options.host)}:${String(candidate.options.port)}` === owner);
    try {
      await node?.wait(1, this.#replicaWaitMs);
    } catch {
      // The reservation stands: not waiting only widens the window WAIT narrows.
    }
  }

  #bucket(): number {
    return Math.floor(this.#now() / this.#dedupeBucketMs);
  }

  /** [current, previous] de-duplication buckets. */
  #dedupeKeys(sessionId: string): [string, string] {
    const bucket = this.#bucket();
    return [dedupeKey(sessionId, bucket), dedupeKey(sessionId, bucket - 1)];
  }

  /** A bucket is written during its own period and read during the next: it may go after two. */
  #bucketTtlSeconds(): number {
    return Math.ceil((2 * this.#dedupeBucketMs) / 1_000);
  }
}

function parseDedupeEntry(entry: string): { id: string; seq: number; timestamp: string; committed: boolean } {
  const [id, seq, timestamp, committed] = entry.split('|');
  if (id === undefined || seq === undefined || timestamp === undefined || committed === undefined) throw new LiveStateCorruptError(`bad de-duplication entry ${entry}`);
  return { id, seq: Number(seq), timestamp, committed: committed === '1' };
}

function stringArray(reply: unknown): string[] {
  if (!Array.isArray(reply) || !reply.every((item) => typeof item === 'string')) throw new LiveStateCorruptError(`expected a list of strings, got ${JSON.stringify(reply)}`);
  return reply;
}

/** Unwraps MULTI results, rethrowing the first command error (a null exec means the transaction was aborted). */
function execResults(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new LiveStateCorruptError('transaction aborted');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
