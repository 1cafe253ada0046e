import { presenceEventPayload, type Bus, type MemberJoin, type PresenceEntry, type SessionPresence } from '@chat/core';
import type { GatewayLogger } from './gateway-logger.ts';

/** Presence leases extended per call of a refresh. */
const REFRESH_SLICE = 500;

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

  /** Ends a connection's presence; nothing to do (no command) for one that was never joined. */
  async leave(entry: PresenceEntry): Promise<void> {
    if (!this.#entries.delete(entry.connectionId)) return;
    try {
      if ((await this.#state.presenceLeave(entry)) && !this.#state.publishesPresence) await this.#announce('leave', entry);
    } catch (error) {
      this.#logger.warn({ err: error, sessionId: entry.sessionId }, 'presence leave failed');
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
