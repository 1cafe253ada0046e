import { presenceEventPayload, type Bus, type MemberJoin, type PresenceEntry, type SessionPresence } from '@chat/core';
import type { GatewayLogger } from './gateway-logger.ts';

/** Presence leases extended per call of a refresh. */
const REFRESH_SLICE = 500;
/** Connections that leave per call: building and answering a call stays a few milliseconds of the event loop. */
const LEAVE_SLICE = 1_000;
/** The first wait before a failed leave is sent again; it doubles up to LEAVE_RETRY_MAX_MS. */
const LEAVE_RETRY_MS = 100;
const LEAVE_RETRY_MAX_MS = 2_000;

const SETTLED = Promise.resolve();

interface Leaving {
  entry: PresenceEntry;
  left: () => void;
}

/**
 * Presence of this replica's chat connections: join on open, leave on close, announcing a user's
 * first and last connection on the bus; leases are refreshed periodically, and sessions with local
 * sockets are swept for leases a crashed replica left behind.
 */
export class PresenceRegistry {
  readonly #state: SessionPresence;
  readonly #bus: Bus;
  readonly #ttlMs: number;
  readonly #logger: GatewayLogger;
  readonly #entries = new Map<string, PresenceEntry>();
  /** Leaves asked for in this turn of the event loop, sent together at its end. */
  #leaving: Leaving[] = [];

  constructor(deps: { state: SessionPresence; bus: Bus; ttlMs: number; logger: GatewayLogger }) {
    this.#state = deps.state;
    this.#bus = deps.bus;
    this.#ttlMs = deps.ttlMs;
    this.#logger = deps.logger;
  }

  /**
   * A chat socket's join once subscribed: membership, head and the join in one call. A failure is
   * thrown (the socket is not admitted on state that could not be read); the entry stays listed
   * then, so the leave still clears a join whose reply was lost. A join event that fails to go
   * out is only logged.
   */
  async joinMember(entry: PresenceEntry, anyone: boolean): Promise<MemberJoin> {
    this.#entries.set(entry.connectionId, entry);
    const result = await this.#state.presenceJoinMember(entry, this.#ttlMs, anyone);
    if (!result.joined) {
      this.#entries.delete(entry.connectionId);
      return result;
    }
    if (result.first && !this.#state.publishesPresence) {
      try {
        await this.#announce('join', entry);
      } catch (error) {
        this.#logger.warn({ err: error, sessionId: entry.sessionId }, 'presence join failed');
      }
    }
    return result;
  }

  /**
   * Ends a connection's presence; nothing to do (no command) for one that was never joined. Leaves
   * of one turn go out together, one command per session (a mass close of 15,000 sockets sent
   * 15,000 scripts at once, and those at the end of Redis's queue timed out), and a failed call is
   * sent again until it goes through or the leases would have lapsed anyway. Settles once the
   * leave is done or given up (the lease then lapses within the TTL and the sweep clears it).
   */
  leave(entry: PresenceEntry): Promise<void> {
    if (!this.#entries.delete(entry.connectionId)) return SETTLED;
    return new Promise((left) => {
      if (this.#leaving.length === 0) setImmediate(() => void this.#sendLeaves());
      this.#leaving.push({ entry, left });
    });
  }

  async #sendLeaves(): Promise<void> {
    const leaving = this.#leaving;
    this.#leaving = [];
    for (let start = 0; start < leaving.length; start += LEAVE_SLICE) {
      const slice = leaving.slice(start, start + LEAVE_SLICE);
      await this.#leaveUntilDone(slice.map((item) => item.entry));
      for (const item of slice) item.left();
    }
  }

  async #leaveUntilDone(entries: PresenceEntry[]): Promise<void> {
    const giveUpAt = Date.now() + this.#ttlMs;
    for (let wait = LEAVE_RETRY_MS; ; wait = Math.min(wait * 2, LEAVE_RETRY_MAX_MS)) {
      let last: boolean[];
      try {
        last = await this.#state.presenceLeave(entries);
      } catch (error) {
        if (Date.now() + wait >= giveUpAt) {
          this.#logger.warn({ err: error, connections: entries.length }, 'presence leave failed; the leases lapse and the sweep clears them');
          return;
        }
        this.#logger.debug({ err: error, connections: entries.length }, 'presence leave failed; sending it again');
        await delay(wait);
        continue;
      }
      if (!this.#state.publishesPresence) await Promise.all(entries.filter((_entry, i) => last[i] === true).map((entry) => this.#announceLeave(entry)));
      return;
    }
  }

  async #announceLeave(entry: PresenceEntry): Promise<void> {
    try {
      await this.#announce('leave', entry);
    } catch (error) {
      this.#logger.warn({ err: error, sessionId: entry.sessionId }, 'presence leave event not published');
    }
  }

  /**
   * Extends every local lease, REFRESH_SLICE entries per call, one call after the other: building
   * the commands for thousands of connections in one turn, and handling all their replies in
   * another, held the event loop while messages were in flight. A failed call ends this refresh;
   * the next one retries.
   */
  async refresh(): Promise<void> {
    const entries = [...this.#entries.values()];
    for (let start = 0; start < entries.length; start += REFRESH_SLICE) {
      try {
        await this.#state.presenceRefresh(entries.slice(start, start + REFRESH_SLICE), this.#ttlMs);
      } catch (error) {
        this.#logger.warn({ err: error }, 'presence refresh failed');
        return;
      }
    }
  }

  async sweep(sessionIds: readonly string[]): Promise<void> {
    for (const sessionId of sessionIds) {
      try {
        for (const userId of await this.#state.presenceSweep(sessionId)) await this.#bus.publish(sessionId, presenceEventPayload('leave', { userId }));
      } catch (error) {
        this.#logger.warn({ err: error, sessionId }, 'presence sweep failed');
      }
    }
  }

  /** Publishes a user's join or leave on the bus, for live state that does not with the join or leave itself. */
  #announce(type: 'join' | 'leave', entry: PresenceEntry): Promise<void> {
    return this.#bus.publish(entry.sessionId, presenceEventPayload(type, entry));
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
