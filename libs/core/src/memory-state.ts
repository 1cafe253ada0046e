import type { ChatMessage } from '@chat/protocol';
import type { AdoptInput, MemberJoin, MembershipAnswer, PresenceEntry, Reservation, ReserveInput, SessionRecord, SessionState } from './ports.ts';

interface LiveSession {
  members: Set<string>;
  head: number;
  /** When live state was rebuilt for a session that had messages (its de-duplication entries were lost). */
  restoredAt: number | undefined;
  dedupe: Map<string, { id: string; seq: number; timestamp: string; committed: boolean }>;
  recent: ChatMessage[];
  /** seq → message whose failed publish waits for a seal */
  seals: Map<number, ChatMessage>;
  /** The highest seq answered to a repeat of an uncommitted send: that repeat may publish it, so it is never released. */
  repeated?: number;
  /** connectionId → lease */
  presence: Map<string, { userId: string; userName?: string; expiresAt: number }>;
  /** userId → ms of the user's last presence join, refresh or leave */
  lastConnected: Map<string, number>;
}

/** In-process live state for the embedded single-process mode; same semantics as RedisSessionState. */
export class MemorySessionState implements SessionState {
  readonly #sessions = new Map<string, LiveSession>();
  readonly #recentCap: number;
  readonly #now: () => number;
  readonly #restoredWindowMs: number;

  constructor(options: { recentMessages: number; now?: () => number; dedupeTtlSeconds?: number }) {
    this.#recentCap = options.recentMessages;
    this.#now = options.now ?? Date.now;
    // As long as RedisSessionState may remember a key (two buckets).
    this.#restoredWindowMs = 2 * (options.dedupeTtlSeconds ?? 24 * 60 * 60) * 1_000;
  }

  hydrate(session: SessionRecord, headSeq: number): Promise<void> {
    const live = this.#sessions.get(session.id);
    if (live) {
      for (const member of session.members) live.members.add(member);
      live.head = Math.max(live.head, headSeq);
    } else {
      const restoredAt = headSeq > 0 ? this.#now() : undefined;
      this.#sessions.set(session.id, { members: new Set(session.members), head: headSeq, restoredAt, dedupe: new Map(), recent: [], seals: new Map(), presence: new Map(), lastConnected: new Map() });
    }
    return Promise.resolve();
  }

  membership(sessionId: string, userId: string): Promise<MembershipAnswer> {
    const live = this.#sessions.get(sessionId);
    if (!live) return Promise.resolve('unknown_session');
    return Promise.resolve(live.members.has(userId) ? 'member' : 'not_member');
  }

  exists(sessionId: string): Promise<boolean> {
    return Promise.resolve(this.#sessions.has(sessionId));
  }

  addMembers(sessionId: string, userIds: readonly string[]): Promise<void> {
    const live = this.#sessions.get(sessionId);
    if (live) for (const userId of userIds) live.members.add(userId);
    return Promise.resolve();
  }

  removeMember(sessionId: string, userId: string): Promise<void> {
    this.#sessions.get(sessionId)?.members.delete(userId);
    return Promise.resolve();
  }

  remove(sessionId: string): Promise<void> {
    this.#sessions.delete(sessionId);
    return Promise.resolve();
  }

  head(sessionId: string): Promise<number | null> {
    return Promise.resolve(this.#sessions.get(sessionId)?.head ?? null);
  }

  reserve(input: ReserveInput): Promise<Reservation> {
    const live = this.#sessions.get(input.sessionId);
    if (!live) return Promise.resolve({ status: 'unknown_session' });
    const key = `${input.userId}:${input.clientMsgId}`;
    const seen = live.dedupe.get(key);
    if (seen) {
      // A repeat of a send not committed yet may publish at its seq: that seq can no longer be released.
      if (!seen.committed) live.repeated = Math.max(live.repeated ?? 0, seen.seq);
      return Promise.resolve({ status: 'duplicate', ...seen, ...pendingSeals(live) });
    }
    if (input.durableChecked !== true && live.restoredAt !== undefined && this.#now() - live.restoredAt < this.#restoredWindowMs) return Promise.resolve({ status: 'restored' });
    live.head += 1;
    live.dedupe.set(key, { id: input.id, seq: live.head, timestamp: input.timestamp, committed: false });
    return Promise.resolve({ status: 'reserved', seq: live.head, ...pendingSeals(live) });
  }

  adopt(input: AdoptInput): Promise<'released' | 'kept' | 'none'> {
    const live = this.#sessions.get(input.sessionId);
    if (!live) return Promise.resolve('none');
    const key = `${input.userId}:${input.clientMsgId}`;
    const seen = live.dedupe.get(key);
    const { first, unused } = input;
    const ours = unused !== undefined && seen !== undefined && !seen.committed && seen.id === unused.id && seen.seq === unused.seq;
    const answer = !ours ? 'none' : live.head === unused.seq ? 'released' : 'kept';
    if (answer === 'released') live.head -= 1;
    live.dedupe.set(key, { id: first.id, seq: first.seq, timestamp: first.timestamp, committed: true });
    return Promise.resolve(answer);
  }

  release(input: { sessionId: string; userId: string; clientMsgId: string; id: string; seq: number }): Promise<boolean> {
    const live = this.#sessions.get(input.sessionId);
    const key = `${input.userId}:${input.clientMsgId}`;
    const seen = live?.dedupe.get(key);
    if (live === undefined || seen === undefined || seen.id !== input.id || seen.seq !== input.seq || seen.committed || live.head !== input.seq || input.seq <= (live.repeated ?? 0)) return Promise.resolve(false);
    live.head -= 1;
    live.dedupe.delete(key);
    return Promise.resolve(true);
  }

  forget(input: { sessionId: string; userId: string; clientMsgId: string; id: string }): Promise<void> {
    const live = this.#sessions.get(input.sessionId);
    const key = `${input.userId}:${input.clientMsgId}`;
    const seen = live?.dedupe.get(key);
    if (seen && seen.id === input.id && !seen.committed) live?.dedupe.delete(key);
    return Promise.resolve();
  }

  holdSeal(message: ChatMessage): Promise<void> {
    this.#sessions.get(message.sessionId)?.seals.set(message.seq, message);
    return Promise.resolve();
  }

  clearSeal(sessionId: string, seq: number): Promise<void> {
    this.#sessions.get(sessionId)?.seals.delete(seq);
    return Promise.resolve();
  }

  commit(message: ChatMessage): Promise<boolean> {
    const live = this.#sessions.get(message.sessionId);
    if (!live) return Promise.resolve(false);
    live.seals.delete(message.seq);
    const key = `${message.userId}:${message.clientMsgId ?? message.id}`;
    const entry = live.dedupe.get(key);
    if (entry?.committed) return Promise.resolve(false);
    live.dedupe.set(key, { id: message.id, seq: message.seq, timestamp: message.timestamp, committed: true });
    // Kept in seq order, like the Redis list, so the cap always drops the lowest seqs.
    let at = live.recent.length;
    while (at > 0 && (live.recent[at - 1]?.seq ?? 0) > message.seq) at -= 1;
    live.recent.splice(at, 0, message);
    if (live.recent.length > this.#recentCap) live.recent.splice(0, live.recent.length - this.#recentCap);
    return Promise.resolve(true);
  }

  recent(sessionId: string, afterSeq: number): Promise<ChatMessage[]> {
    const live = this.#sessions.get(sessionId);
    return Promise.resolve((live?.recent ?? []).filter((message) => message.seq > afterSeq));
  }

  presenceJoinMember(entry: PresenceEntry, ttlMs: number, anyone: boolean): Promise<MemberJoin> {
    const live = this.#sessions.get(entry.sessionId);
    if (!live) return Promise.resolve({ membership: 'unknown_session', head: null, joined: false, first: false });
    const membership: MembershipAnswer = live.members.has(entry.userId) ? 'member' : 'not_member';
    if (membership === 'not_member' && !anyone) return Promise.resolve({ membership, head: live.head, joined: false, first: false });
    this.#expire(live);
    const first = !this.#hasUser(live, entry.userId);
    live.presence.set(entry.connectionId, { userId: entry.userId, ...(entry.userName === undefined ? {} : { userName: entry.userName }), expiresAt: this.#now() + ttlMs });
    live.lastConnected.set(entry.userId, this.#now());
    return Promise.resolve({ membership, head: live.head, joined: true, first });
  }

  presenceLeave(entries: readonly PresenceEntry[]): Promise<boolean[]> {
    return Promise.resolve(entries.map((entry) => this.#leave(entry)));
  }

  #leave(entry: PresenceEntry): boolean {
    const live = this.#sessions.get(entry.sessionId);
    if (!live?.presence.delete(entry.connectionId)) return false;
    live.lastConnected.set(entry.userId, this.#now());
    return !this.#hasUser(live, entry.userId);
  }

  presenceRefresh(entries: readonly PresenceEntry[], ttlMs: number): Promise<void> {
    for (const entry of entries) {
      const live = this.#sessions.get(entry.sessionId);
      const lease = live?.presence.get(entry.connectionId);
      if (lease) lease.expiresAt = this.#now() + ttlMs;
      live?.lastConnected.set(entry.userId, this.#now());
    }
    return Promise.resolve();
  }

  members(sessionId: string): Promise<string[] | null> {
    const live = this.#sessions.get(sessionId);
    return Promise.resolve(live ? [...live.members] : null);
  }

  lastConnected(sessionId: string): Promise<Map<string, number>> {
    return Promise.resolve(new Map(this.#sessions.get(sessionId)?.lastConnected));
  }

  presenceOnline(sessionId: string): Promise<{ userId: string; userName?: string }[]> {
    const live = this.#sessions.get(sessionId);
    if (!live) return Promise.resolve([]);
    const now = this.#now();
    const users = new Map<string, string | undefined>();
    for (const lease of live.presence.values()) if (lease.expiresAt > now) users.set(lease.userId, lease.userName ?? users.get(lease.userId));
    return Promise.resolve([...users].map(([userId, userName]) => (userName === undefined ? { userId } : { userId, userName })));
  }

  presenceSweep(sessionId: string): Promise<string[]> {
    const live = this.#sessions.get(sessionId);
    if (!live) return Promise.resolve([]);
    const expiredUsers = this.#expire(live);
    return Promise.resolve(expiredUsers.filter((userId) => !this.#hasUser(live, userId)));
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #expire(live: LiveSession): string[] {
    const now = this.#now();
    const users: string[] = [];
    for (const [connectionId, lease] of live.presence) {
      if (lease.expiresAt <= now) {
        live.presence.delete(connectionId);
        users.push(lease.userId);
      }
    }
    return [...new Set(users)];
  }

  #hasUser(live: LiveSession, userId: string): boolean {
    for (const lease of live.presence.values()) if (lease.userId === userId) return true;
    return false;
  }
}

/** The session's pending seals in seq order, as reserve() returns them (the field left out when none). */
function pendingSeals(live: LiveSession): { pendingSeals?: ChatMessage[] } {
  if (live.seals.size === 0) return {};
  return { pendingSeals: [...live.seals.values()].sort((a, b) => a.seq - b.seq) };
}
