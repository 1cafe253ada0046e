import type { ChatMessage } from '@chat/protocol';
import type { ChatStore, MessageQueue, SessionRoster } from './ports.ts';

export type Access = 'ok' | 'forbidden' | 'not_found';

export interface Caller {
  userId: string;
  /** Holds the `chat:admin` scope: may act on any session. */
  admin: boolean;
}

/**
 * Answers "may this caller use this session?" from live state, loading a session into live
 * state from the store when live state does not know it (first use, or after Redis lost it).
 */
export class SessionDirectory {
  readonly #state: SessionRoster;
  readonly #store: ChatStore;
  readonly #queue: MessageQueue;

  constructor(deps: { state: SessionRoster; store: ChatStore; queue: MessageQueue }) {
    this.#state = deps.state;
    this.#store = deps.store;
    this.#queue = deps.queue;
  }

  async authorize(sessionId: string, caller: Caller): Promise<Access> {
    let answer = await this.#state.membership(sessionId, caller.userId);
    if (answer === 'unknown_session') {
      if (!(await this.ensureLive(sessionId))) return 'not_found';
      answer = await this.#state.membership(sessionId, caller.userId);
      if (answer === 'unknown_session') return 'not_found';
    }
    return answer === 'member' || caller.admin ? 'ok' : 'forbidden';
  }

  /** True when the session is open and now in live state; false when unknown or closed. */
  async ensureLive(sessionId: string): Promise<boolean> {
    if (await this.#state.exists(sessionId)) return true;
    const session = await this.#store.getSession(sessionId);
    if (!session || session.closedAt !== null) return false;
    // The queue may hold accepted messages the store has not written yet: the head must cover them.
    const [stored, queued] = await Promise.all([this.#store.maxSeq(sessionId), this.#queue.lastSeq(sessionId)]);
    await this.#state.hydrate(session, Math.max(stored, queued));
    return true;
  }

  /** The stored message the user sent with this clientMsgId, for a key live state forgot. */
  findSent(sessionId: string, userId: string, clientMsgId: string): Promise<ChatMessage | null> {
    return this.#store.findSent(sessionId, userId, clientMsgId);
  }
}
