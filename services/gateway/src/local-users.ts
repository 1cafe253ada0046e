import { userTopic, type Bus } from '@chat/core';
import type { GatewayLogger } from './gateway-logger.ts';

/** A feed socket listening on its user's own channel. */
export interface UserListener {
  /** A parsed event of the user's channel (only `session_added` so far). */
  receiveUserEvent(event: { type?: unknown; sessionId?: unknown }): void;
}

/**
 * The users with feed sockets on this replica: a user's channel is subscribed while they have at
 * least one here, shared by all of them, as LocalSessions does for sessions.
 */
export class LocalUsers {
  readonly #bus: Bus;
  readonly #logger: GatewayLogger;
  readonly #listeners = new Map<string, { members: Set<UserListener>; ready: Promise<void> }>();
  readonly #leaving = new Map<string, Promise<void>>();

  constructor(deps: { bus: Bus; logger: GatewayLogger }) {
    this.#bus = deps.bus;
    this.#logger = deps.logger;
  }

  /** Resolves once the user's channel is subscribed; rejects when the bus fails. */
  async attach(userId: string, listener: UserListener): Promise<void> {
    let entry = this.#listeners.get(userId);
    if (!entry) {
      const members = new Set<UserListener>();
      entry = { members, ready: this.#subscribe(userId, members) };
      this.#listeners.set(userId, entry);
    }
    entry.members.add(listener);
    try {
      await entry.ready;
    } catch (error) {
      this.detach(userId, listener);
      throw error;
    }
  }

  detach(userId: string, listener: UserListener): void {
    const entry = this.#listeners.get(userId);
    if (!entry?.members.delete(listener) || entry.members.size > 0) return;
    this.#listeners.delete(userId);
    const leaving = entry.ready
      .catch(() => undefined)
      .then(() => this.#bus.unsubscribe(userTopic(userId)))
      .catch((error: unknown) => this.#logger.debug({ err: error, userId }, 'unsubscribe failed'))
      .finally(() => {
        if (this.#leaving.get(userId) === leaving) this.#leaving.delete(userId);
      });
    this.#leaving.set(userId, leaving);
  }

  async settle(): Promise<void> {
    await Promise.all([...this.#leaving.values()]);
  }

  async #subscribe(userId: string, members: Set<UserListener>): Promise<void> {
    await this.#leaving.get(userId);
    await this.#bus.subscribe(userTopic(userId), (payload) => {
      let event: { type?: unknown; sessionId?: unknown };
      try {
        event = JSON.parse(payload) as { type?: unknown; sessionId?: unknown };
      } catch (error) {
        this.#logger.warn({ err: error }, 'dropped a user channel payload that is not JSON');
        return;
      }
      for (const member of members) member.receiveUserEvent(event);
    });
  }
}
