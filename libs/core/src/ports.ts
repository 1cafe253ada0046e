import type { ChatMessage, Session } from '@chat/protocol';
import type { UserRateLimiter } from './user-rate-limiter.ts';

/**
 * The outside world, seen through narrow ports. Each has one module per technology
 * (memory-*.ts here, @chat/redis and @chat/jetstream for the brokers); services only ever see these interfaces.
 */

export type SessionRecord = Session & { closedAt: string | null };

export type MembershipAnswer = 'member' | 'not_member' | 'unknown_session';

export type Reservation =
  /** A fresh sequence number for a new message. */
  | { status: 'reserved'; seq: number; pendingSeals?: ChatMessage[] }
  /** The same (session, user, clientMsgId) was seen before: reuse its id, seq and timestamp. */
  | { status: 'duplicate'; id: string; seq: number; timestamp: string; committed: boolean; pendingSeals?: ChatMessage[] }
  /** Live state does not know the session (never loaded, expired, or closed). */
  | { status: 'unknown_session' }
  /**
   * Live state was rebuilt from the durable tiers (Redis lost it) within the de-duplication period
   * and does not know this key: the store must be asked whether it was sent before live state was
   * lost, then reserve() called again with `durableChecked`.
   */
  | { status: 'restored' }
  /** The `budget` given refused: no seq, no de-duplication entry. */
  | { status: 'rate_limited'; retryAfterMs: number };

export interface ReserveInput {
  sessionId: string;
  userId: string;
  /** With userId, the de-duplication key; a message without a clientMsgId uses its own id here. */
  clientMsgId: string;
  id: string;
  timestamp: string;
  /** The durable tiers were asked already and do not know the key: never answer `restored`. */
  durableChecked?: boolean;
  /**
   * A send budget to take first, in the same step (only where `takesBudgetsOf` said so): when it
   * refuses, the answer is `rate_limited` and nothing else changes.
   */
  budget?: { key: string; perSec: number; burst: number };
}

/** A message found in the durable tiers for a key live state had forgotten. */
export interface AdoptInput {
  sessionId: string;
  userId: string;
  clientMsgId: string;
  /** The first message sent with the key: future repeats are answered with it. */
  first: ChatMessage;
  /** A seq this attempt reserved and no longer needs; given back while it is still the head. */
  unused?: { id: string; seq: number };
}

/** What `presenceJoinMember` found and did. */
export interface MemberJoin {
  membership: MembershipAnswer;
  /** The session's head; null when the session is not live. */
  head: number | null;
  /** Whether the connection was registered: only in a live session, and only for a member unless `anyone`. */
  joined: boolean;
  /** Joined as the user's first live connection (announce a join). */
  first: boolean;
}

export interface PresenceEntry {
  sessionId: string;
  userId: string;
  connectionId: string;
  userName?: string;
}

/**
 * Live per-session state (Redis in production), in three ports along their callers: the session
 * log (seqs, de-duplication, recent messages) for the message path and history, the roster (which
 * sessions are live, their members) for admission and the directory, and presence for the
 * gateways' sockets. A part asks for the narrowest it uses.
 */
export interface SessionLog {
  /** The highest seq handed out, or null when the session is not live. */
  head(sessionId: string): Promise<number | null>;
  /** Atomically allocates the next seq, or returns the earlier allocation for a repeated clientMsgId. */
  reserve(input: ReserveInput): Promise<Reservation>;
  /**
   * True when reserve() can take a budget of this limiter in its own step (the limiter keeps its
   * buckets on the same server, and not on a Redis Cluster, where a user's bucket and a session's
   * keys hash to different slots): one round trip for both instead of two in a row.
   */
  takesBudgetsOf?(limiter: UserRateLimiter): boolean;
  /**
   * Gives back a fresh reservation whose message never left this process (its publish was refused
   * before a byte was written): the head goes back and the de-duplication entry goes, as if reserve()
   * had not run. Only while the seq is still the head and the entry still message `id`'s and
   * uncommitted; true when given back, false when the caller must fill the seq as any failed publish.
   */
  release(input: { sessionId: string; userId: string; clientMsgId: string; id: string; seq: number }): Promise<boolean>;
  /**
   * Remembers `first` as the committed answer to its (userId, clientMsgId), without touching the
   * recent list or fanning out (it is old), and gives back `unused` when it is still the head and
   * uncommitted. Returns 'released' when it was given back, 'kept' when it was this attempt's
   * uncommitted reservation but not the head (the caller must fill it), 'none' otherwise (no
   * `unused`, or another attempt of the key dealt with it already).
   */
  adopt(input: AdoptInput): Promise<'released' | 'kept' | 'none'>;
  /**
   * Drops the uncommitted reservation entry of (userId, clientMsgId) if it is still message `id`'s,
   * without touching the head: its seq was sealed by a gap record, and a resend needs a new one.
   */
  forget(input: { sessionId: string; userId: string; clientMsgId: string; id: string }): Promise<void>;
  /**
   * Records that `message`'s publish failed as a queue connection dropped: its seq is kept and
   * waits for a seal (a gap record under the message's own key). Until the seal, or a commit of
   * any message at that seq, every reserve() of the session returns it in `pendingSeals`, so any
   * replica with a working queue can seal it before it publishes a later seq.
   */
  holdSeal(message: ChatMessage): Promise<void>;
  /** Drops the pending seal at `seq`, if any (sealed, or too old to seal under its own key). */
  clearSeal(sessionId: string, seq: number): Promise<void>;
  /**
   * Records a durable message in the recent list and marks its reservation (userId, clientMsgId ?? id)
   * committed, and drops a pending seal at its seq; true only the first time, so fan-out happens once.
   */
  commit(message: ChatMessage): Promise<boolean>;
  /**
   * True when commit() also publishes the message on the session's bus channel in the same step
   * (live state and the bus on one server): the first commit of a message fans it out, later ones
   * do not, and the intake publishes nothing itself. One round trip per send instead of two.
   */
  readonly publishesCommits?: boolean;
  /** Recent committed messages with seq > afterSeq, ascending; the list is capped, so older ones may be missing. */
  recent(sessionId: string, afterSeq: number): Promise<ChatMessage[]>;
}

/** Which sessions live state holds, and their members. */
export interface SessionRoster {
  /** Loads a session into live state; idempotent, never lowers an existing head. */
  hydrate(session: SessionRecord, headSeq: number): Promise<void>;
  /** Whether live state holds the session at all. */
  exists(sessionId: string): Promise<boolean>;
  membership(sessionId: string, userId: string): Promise<MembershipAnswer>;
  /** The members of a live session, or null when it is not live. */
  members(sessionId: string): Promise<string[] | null>;
  addMembers(sessionId: string, userIds: readonly string[]): Promise<void>;
  /** Takes a member out of a live session; nothing when the session is not live. */
  removeMember(sessionId: string, userId: string): Promise<void>;
  /** Drops every live key of the session. */
  remove(sessionId: string): Promise<void>;
}

/** Who has a socket open in a session, per connection, leased for a TTL. */
export interface SessionPresence {
  /**
   * What a chat socket does once subscribed, in one step: reads the membership and the head, and
   * registers the connection when the session is live and the user a member (anyone, for `anyone`:
   * admins need no membership). Atomic, so a member removed before it is never registered.
   */
  presenceJoinMember(entry: PresenceEntry, ttlMs: number, anyone: boolean): Promise<MemberJoin>;
  /**
   * Removes connections, any number and of any sessions in one call (a mass close sends one command
   * per session, not one per connection); one flag per entry, in order: true when it was its user's
   * last connection in the session (announce a leave).
   */
  presenceLeave(entries: readonly PresenceEntry[]): Promise<boolean[]>;
  /**
   * True when a join or leave that is the user's first or last connection also publishes its event
   * (presenceEventPayload) on the session's bus channel in the same step (live state and the bus on
   * one server), so the caller publishes nothing: one command per connect and per close fewer.
   */
  readonly publishesPresence?: boolean;
  /** Extends the lease of connections that are still open. */
  presenceRefresh(entries: readonly PresenceEntry[], ttlMs: number): Promise<void>;
  /** Users with at least one unexpired connection, with names where known. */
  presenceOnline(sessionId: string): Promise<{ userId: string; userName?: string }[]>;
  /** Removes expired connections (of a crashed replica); returns users that have no connection left. */
  presenceSweep(sessionId: string): Promise<string[]>;
  /**
   * userId → when (ms) the user last had a chat socket open in the session, as written by every
   * presence join, refresh and leave (so to within a presence refresh interval).
   */
  lastConnected(sessionId: string): Promise<Map<string, number>>;
}

/** All three on one store, as both adapters implement them; what the composition hands out. */
export interface SessionState extends SessionLog, SessionRoster, SessionPresence {
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Fan-out between replicas: one channel per session, carrying serialized SessionEvent JSON. */
export interface Bus {
  publish(sessionId: string, payload: string): Promise<void>;
  /** At most one subscription per session per process; payloads arrive in publish order per publisher. */
  subscribe(sessionId: string, onPayload: (payload: string) => void): Promise<void>;
  unsubscribe(sessionId: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What a message's de-duplication key in the queue is made of. */
export type QueueKeySource = Pick<ChatMessage, 'sessionId' | 'userId' | 'clientMsgId' | 'id'>;

/** Trace context and similar, carried beside the message. */
export type QueueHeaders = Record<string, string>;

/**
 * What the queue holds after a publish. The queue de-duplicates by (sessionId, userId,
 * clientMsgId ?? id) within its duplicate window: a repeat is not stored again, and `first` is the
 * message stored under the key (the same message when this is a retry of one attempt).
 */
export type PublishOutcome = { duplicate: false } | { duplicate: true; first: ChatMessage };

/** The durable queue in front of the store. */
export interface MessageQueue {
  /**
   * Resolves only once the message is durable (JetStream PubAck). `keyOf` stores it under another
   * message's key: a gap record sealing a failed publish takes that publish's key, so exactly one
   * of the two is ever stored. A message whose key holds a gap record is stored under a key of its
   * own (a resend after the seal).
   */
  publish(message: ChatMessage, headers?: QueueHeaders, keyOf?: QueueKeySource): Promise<PublishOutcome>;
  /** Cheap and synchronous: false while the queue knows it cannot publish (connection down), to fail fast. */
  ready(): boolean;
  /** The highest seq of the session still held by the queue, or 0. */
  lastSeq(sessionId: string): Promise<number>;
  /**
   * The session's messages held by the queue with afterSeq < seq < beforeSeq, ascending, at most
   * `limit`. Only for a hole between the store and the recent list (the persister is behind):
   * the read is bounded in work and time, so it may return fewer than exist.
   */
  range(sessionId: string, afterSeq: number, beforeSeq: number, limit: number): Promise<ChatMessage[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface QueuedMessage {
  /** The raw payload, to be validated by the consumer. */
  readonly data: Uint8Array;
  readonly headers: QueueHeaders;
  /** How many times this message was delivered, 1 on the first. */
  readonly deliveryCount: number;
  ack(): void;
  /** Redeliver later. */
  nak(delayMs?: number): void;
  /** Never redeliver: the message can never be processed. */
  term(reason: string): void;
}

/** The consuming side of the queue, for the persister. */
export interface QueueConsumer {
  /** Fetches batches and passes each to the handler until the signal aborts. */
  run(signal: AbortSignal, onBatch: (batch: readonly QueuedMessage[]) => Promise<void>): Promise<void>;
  /** Messages waiting for the consumer, for lag metrics. */
  pending(): Promise<number>;
}

export interface HistoryPage {
  messages: ChatMessage[];
  hasMore: boolean;
}

export interface HistoryRange {
  limit: number;
  before?: number;
  after?: number;
}

export interface NewSession {
  id: string;
  title: string | null;
  members: readonly string[];
  metadata: Record<string, unknown>;
  createdAt: string;
}

/** What PATCH may change: a field left out stays as it is; a null title clears it. */
export interface SessionChanges {
  title?: string | null;
  metadata?: Record<string, unknown>;
}

/** The system of record (PostgreSQL, or PGlite in the embedded mode). */
export interface ChatStore {
  createSession(session: NewSession): Promise<SessionRecord>;
  getSession(sessionId: string): Promise<SessionRecord | null>;
  /** Adds members (ignoring those already in); returns the updated session or null when unknown. */
  addMembers(sessionId: string, userIds: readonly string[]): Promise<SessionRecord | null>;
  /** Removes a member; the updated session, or null when unknown. Removing a non-member changes nothing. */
  removeMember(sessionId: string, userId: string): Promise<SessionRecord | null>;
  /** Replaces the title and/or the metadata given; the updated session, or null when unknown. */
  updateSession(sessionId: string, changes: SessionChanges): Promise<SessionRecord | null>;
  /** Marks the session closed; false when it did not exist or was already closed. */
  closeSession(sessionId: string, closedAt: string): Promise<boolean>;
  history(sessionId: string, range: HistoryRange): Promise<HistoryPage>;
  maxSeq(sessionId: string): Promise<number>;
  /** The stored message the user sent with this clientMsgId in the session, or null. */
  findSent(sessionId: string, userId: string, clientMsgId: string): Promise<ChatMessage | null>;
  /**
   * Idempotent multi-row insert; returns how many rows were new. A row whose id, (session_id, seq)
   * or (session_id, user_id, client_msg_id) is stored already counts as stored and is skipped.
   */
  insertMessages(messages: readonly ChatMessage[]): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
