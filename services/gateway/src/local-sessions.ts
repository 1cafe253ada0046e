import type { Bus, SessionLog } from '@chat/core';
import { feedMessageOf, type ChatMessage } from '@chat/protocol';
import { secondsSince, type ChatMetrics } from '@chat/telemetry';
import type { GatewayLogger } from './gateway-logger.ts';
import { SessionFeed, type FeedTiming } from './session-feed.ts';

/** Sessions whose heads are read at once by a tail check. */
const TAIL_CHECK_SLICE = 200;

/** A local socket's view of its session's traffic. */
export interface SessionMember {
  readonly kind: 'chat' | 'status';
  /** Whose socket it is: a `member_removed` event closes that user's sockets. */
  readonly userId: string;
  /** Chat sockets: a message, in seq order per session; the frame is shared by every recipient. */
  receiveMessage(seq: number, frame: Buffer): void;
  /** Status sockets: join, leave, typing, read and analysis_status events. */
  receiveEvent(frame: Buffer): void;
  sessionClosed(): void;
  memberRemoved(): void;
}

/**
 * A user's feed socket following one of their sessions: it hears of each message (a summary, in
 * seq order), of the user's own read moves and of analysis status changes, not of the rest.
 */
export interface SessionFollower {
  readonly userId: string;
  /** A `feed_message` frame, built once per message and shared by every follower on this replica. */
  receiveSummary(frame: Buffer): void;
  /** The follower's own read cursor in the session moved. */
  readMoved(seq: number): void;
  /** An `analysis_status` frame, as published. */
  receiveStatus(frame: Buffer): void;
  sessionClosed(): void;
  memberRemoved(): void;
}

interface Routed {
  type?: unknown;
  userId?: unknown;
  seq?: unknown;
  timestamp?: unknown;
}

/** One session with local sockets: one bus subscription and one reorder feed for all of them. */
class SessionHub {
  readonly members = new Set<SessionMember>();
  readonly followers = new Set<SessionFollower>();
  readonly feed: SessionFeed;
  ready: Promise<void> = Promise.resolve();

  readonly #metrics: ChatMetrics;

  constructor(sessionId: string, state: SessionLog, timing: FeedTiming, logger: GatewayLogger, metrics: ChatMetrics) {
    this.#metrics = metrics;
    this.feed = new SessionFeed({
      sessionId,
      ...timing,
      logger,
      fetchRecent: (afterSeq) => state.recent(sessionId, afterSeq),
      release: (seq, frame) => {
        let recipients = 0;
        for (const member of this.members) {
          if (member.kind !== 'chat') continue;
          member.receiveMessage(seq, frame);
          recipients += 1;
        }
        this.#metrics.framesOut.add(recipients, { type: 'message' });
        if (this.followers.size > 0) this.#summarize(frame, logger);
      },
    });
  }

  get empty(): boolean {
    return this.members.size === 0 && this.followers.size === 0;
  }

  /** Only when feeds follow the session here: one parse and one small frame per message, for all of them. */
  #summarize(frame: Buffer, logger: GatewayLogger): void {
    let summary: Buffer;
    try {
      summary = Buffer.from(JSON.stringify(feedMessageOf(JSON.parse(frame.toString()) as ChatMessage)));
    } catch (error) {
      logger.warn({ err: error }, 'could not summarize a message for the feeds');
      return;
    }
    for (const follower of this.followers) follower.receiveSummary(summary);
    this.#metrics.framesOut.add(this.followers.size, { type: 'feed_message' });
  }

  /** Parses each payload once, for routing only; every recipient gets the original bytes. */
  onPayload(payload: string, logger: GatewayLogger): void {
    let routed: Routed;
    try {
      routed = JSON.parse(payload) as Routed;
    } catch (error) {
      logger.warn({ err: error }, 'dropped a bus payload that is not JSON');
      return;
    }
    switch (routed.type) {
      case 'message':
        if (typeof routed.seq !== 'number') return;
        if (typeof routed.timestamp === 'string') this.#metrics.fanoutDeliveryLatency.record(secondsSince(routed.timestamp));
        this.feed.push(routed.seq, Buffer.from(payload));
        return;
      case 'read':
        if (typeof routed.userId === 'string' && typeof routed.seq === 'number') {
          for (const follower of this.followers) if (follower.userId === routed.userId) follower.readMoved(routed.seq);
        }
        this.#toStatusMembers(routed.type, payload);
        return;
      case 'analysis_status':
        if (this.followers.size > 0) {
          const frame = Buffer.from(payload);
          for (const follower of this.followers) follower.receiveStatus(frame);
        }
        this.#toStatusMembers(routed.type, payload);
        return;
      case 'join':
      case 'leave':
      case 'typing':
        this.#toStatusMembers(routed.type, payload);
        return;
      case 'session_closed':
        for (const member of [...this.members]) member.sessionClosed();
        for (const follower of [...this.followers]) follower.sessionClosed();
        return;
      case 'member_removed':
        for (const member of [...this.members]) if (member.userId === routed.userId) member.memberRemoved();
        for (const follower of [...this.followers]) if (follower.userId === routed.userId) follower.memberRemoved();
        return;
      default:
        logger.debug({ type: routed.type }, 'ignored an unknown bus event');
    }
  }

  #toStatusMembers(type: string, payload: string): void {
    // Made at the first status socket: most sessions have none, and every connect publishes a join.
    let frame: Buffer | undefined;
    let recipients = 0;
    for (const member of this.members) {
      if (member.kind !== 'status') continue;
      frame ??= Buffer.from(payload);
      member.receiveEvent(frame);
      recipients += 1;
    }
    if (recipients > 0) this.#metrics.framesOut.add(recipients, { type });
  }
}

/**
 * The registry of sessions that have sockets on this replica: a session is subscribed on the bus
 * while it has at least one, and unsubscribed when the last one leaves.
 */
export class LocalSessions {
  readonly #bus: Bus;
  readonly #state: SessionLog;
  readonly #timing: FeedTiming;
  readonly #logger: GatewayLogger;
  readonly #metrics: ChatMetrics;
  readonly #hubs = new Map<string, SessionHub>();
  /** Unsubscribes in flight, so a new subscription to the same session waits for them. */
  readonly #leaving = new Map<string, Promise<void>>();

  constructor(deps: { bus: Bus; state: SessionLog; timing: FeedTiming; logger: GatewayLogger; metrics: ChatMetrics }) {
    this.#metrics = deps.metrics;
    this.#bus = deps.bus;
    this.#state = deps.state;
    this.#timing = deps.timing;
    this.#logger = deps.logger;
  }

  /** Resolves once the session is subscribed and its feed knows where it starts; rejects when the bus fails. */
  async attach(sessionId: string, member: SessionMember): Promise<void> {
    const hub = this.#hub(sessionId);
    hub.members.add(member);
    try {
      await hub.ready;
    } catch (error) {
      this.detach(sessionId, member);
      throw error;
    }
  }

  detach(sessionId: string, member: SessionMember): void {
    const hub = this.#hubs.get(sessionId);
    if (hub?.members.delete(member)) this.#leaveIfEmpty(sessionId, hub);
  }

  /** A feed follows the session through the same subscription as its sockets; resolves like attach. */
  async follow(sessionId: string, follower: SessionFollower): Promise<void> {
    const hub = this.#hub(sessionId);
    hub.followers.add(follower);
    try {
      await hub.ready;
    } catch (error) {
      this.unfollow(sessionId, follower);
      throw error;
    }
  }

  unfollow(sessionId: string, follower: SessionFollower): void {
    const hub = this.#hubs.get(sessionId);
    if (hub?.followers.delete(follower)) this.#leaveIfEmpty(sessionId, hub);
  }

  #hub(sessionId: string): SessionHub {
    let hub = this.#hubs.get(sessionId);
    if (!hub) {
      hub = new SessionHub(sessionId, this.#state, this.#timing, this.#logger, this.#metrics);
      this.#hubs.set(sessionId, hub);
      hub.ready = this.#open(sessionId, hub);
    }
    return hub;
  }

  #leaveIfEmpty(sessionId: string, hub: SessionHub): void {
    if (!hub.empty) return;
    this.#hubs.delete(sessionId);
    hub.feed.stop();
    const leaving = hub.ready
      // Even after a failed start the subscription may exist; dropping one that does not is harmless.
      .catch(() => undefined)
      .then(() => this.#bus.unsubscribe(sessionId))
      .catch((error: unknown) => this.#logger.debug({ err: error, sessionId }, 'unsubscribe failed'))
      .finally(() => {
        if (this.#leaving.get(sessionId) === leaving) this.#leaving.delete(sessionId);
      });
    this.#leaving.set(sessionId, leaving);
  }

  sessionIds(): string[] {
    return [...this.#hubs.keys()];
  }

  /** Where the session's feed stands (the last seq released in order), if it is local. */
  released(sessionId: string): number | undefined {
    return this.#hubs.get(sessionId)?.feed.released;
  }

  /**
   * Compares each local session's head in live state with what its feed has released, so a
   * message whose fan-out never arrived (lost while the bus reconnected) is read from live state.
   */
  async checkTails(): Promise<void> {
    // In slices: one burst of a read per local session (thousands) would hold the event loop and
    // the Redis connection at once every tick, a stall every message in flight would wait behind.
    const hubs = [...this.#hubs];
    for (let start = 0; start < hubs.length; start += TAIL_CHECK_SLICE) {
      await Promise.all(
        hubs.slice(start, start + TAIL_CHECK_SLICE).map(async ([sessionId, hub]) => {
          try {
            const head = await this.#state.head(sessionId);
            if (head !== null) hub.feed.expect(head);
          } catch (error) {
            this.#logger.debug({ err: error, sessionId }, 'could not read the head of a session');
          }
        }),
      );
    }
  }

  /** Waits for every unsubscribe to finish; for shutdown, once the sockets are gone. */
  async settle(): Promise<void> {
    await Promise.all([...this.#leaving.values()]);
  }

  async #open(sessionId: string, hub: SessionHub): Promise<void> {
    await this.#leaving.get(sessionId);
    await this.#bus.subscribe(sessionId, (payload) => hub.onPayload(payload, this.#logger));
    // Read after subscribing: anything published later is caught by the subscription.
    hub.feed.start((await this.#state.head(sessionId)) ?? 0);
  }
}
