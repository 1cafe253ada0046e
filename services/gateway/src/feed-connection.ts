import type { Principal } from '@chat/auth';
import type { SessionDirectory, SessionRoster, WorkspaceStore } from '@chat/core';
import { CLOSE_CODES, MAX_FEED_SESSIONS, type FeedReadFrame, type JsonBounds, type SessionAddedFrame, type SessionRemovedFrame } from '@chat/protocol';
import { Connection, type ConnectionSettings } from './connection.ts';
import type { GatewayLogger } from './gateway-logger.ts';
import type { LocalSessions, SessionFollower } from './local-sessions.ts';
import type { LocalUsers, UserListener } from './local-users.ts';
import { RateGuard } from './rate-guard.ts';
import type { Socket } from './socket.ts';

export interface FeedConnectionDeps extends ConnectionSettings {
  state: SessionRoster;
  directory: SessionDirectory;
  sessions: LocalSessions;
  users: LocalUsers;
  /** Where the user's sessions are listed on open; without it the feed answers 4503. */
  workspace?: WorkspaceStore;
  logger: GatewayLogger;
  maxMessageChars: number;
  jsonBounds: JsonBounds;
  ratePerSec: number;
  rateBurst: number;
}

/** Sessions made live and followed at once while a feed opens. */
const OPEN_SLICE = 20;
const LIST_PAGE = 100;

/**
 * One `/ws/feed` socket: everything the user's session list needs from all their sessions. It
 * follows each session through the subscription this replica shares for it (LocalSessions), and
 * the user's own channel for sessions they are added to. Frames that come while it opens are held
 * and sent after `feed_open`.
 */
export class FeedConnection extends Connection implements UserListener {
  readonly #deps: FeedConnectionDeps;
  /** Made at the first frame: an idle connection holds no buckets. */
  #guard: RateGuard | undefined;
  /** sessionId → this socket's follower there. */
  readonly #following = new Map<string, SessionFollower>();
  #held: (Buffer | string)[] | undefined = [];
  #listening = false;

  constructor(socket: Socket, principal: Principal, deps: FeedConnectionDeps, id?: string) {
    super(socket, principal, deps, 'feed', id);
    this.#deps = deps;
  }

  async open(): Promise<void> {
    const workspace = this.#deps.workspace;
    if (!workspace) {
      this.end(CLOSE_CODES.tryAgainLater, 'unavailable');
      return;
    }
    try {
      // The user's channel first: a session the user is added to while the list is read is not missed.
      this.#listening = true;
      await this.#deps.users.attach(this.userId, this);
      const ids = await this.#listSessions(workspace);
      for (let start = 0; start < ids.length && !this.closing; start += OPEN_SLICE) {
        await Promise.all(ids.slice(start, start + OPEN_SLICE).map((sessionId) => this.#follow(sessionId)));
      }
    } catch (error) {
      this.#deps.logger.warn({ err: error, userId: this.userId }, 'could not open a feed connection');
      this.end(CLOSE_CODES.tryAgainLater, 'unavailable');
      return;
    }
    if (this.closing) return;
    this.write(JSON.stringify({ type: 'feed_open', userId: this.userId, sessionIds: [...this.#following.keys()] }), 'feed_open');
    this.welcomed();
    this.listen();
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const frame of held) this.write(frame);
  }

  receiveUserEvent(event: { type?: unknown; sessionId?: unknown }): void {
    if (event.type !== 'session_added' || typeof event.sessionId !== 'string') return;
    const sessionId = event.sessionId.toLowerCase();
    if (this.#following.has(sessionId) || this.closing) return;
    void this.#add(sessionId).catch((error: unknown) => this.#deps.logger.warn({ err: error, sessionId, userId: this.userId }, 'could not follow an added session'));
  }

  protected override cleanUp(): Promise<void> {
    for (const [sessionId, follower] of this.#following) this.#deps.sessions.unfollow(sessionId, follower);
    this.#following.clear();
    if (this.#listening) this.#deps.users.detach(this.userId, this);
    this.#listening = false;
    return Promise.resolve();
  }

  /** The user's open sessions, newest activity first, at most MAX_FEED_SESSIONS. */
  async #listSessions(workspace: WorkspaceStore): Promise<string[]> {
    const ids: string[] = [];
    let after;
    do {
      const page = await workspace.listSessions({ userId: this.userId, everySession: false, limit: Math.min(LIST_PAGE, MAX_FEED_SESSIONS - ids.length), ...(after === undefined ? {} : { after }) });
      ids.push(...page.sessions.map((session) => session.id));
      after = page.next ?? undefined;
    } while (after !== undefined && ids.length < MAX_FEED_SESSIONS);
    return ids;
  }

  async #add(sessionId: string): Promise<void> {
    // The event says where to look; membership says whether to.
    if ((await this.#deps.directory.authorize(sessionId, { userId: this.userId, admin: false })) !== 'ok') return;
    if (await this.#follow(sessionId)) {
      const frame: SessionAddedFrame = { type: 'session_added', sessionId };
      this.#send(JSON.stringify(frame), 'session_added');
    }
  }

  /**
   * Follows a session that is open, making it live first so its feed starts at its head; true when
   * followed. A removal announced before the subscription is caught by reading membership after it.
   */
  async #follow(sessionId: string): Promise<boolean> {
    if (!this.#mayFollow(sessionId)) return false;
    if (!(await this.#deps.directory.ensureLive(sessionId))) return false;
    if (!this.#mayFollow(sessionId)) return false;
    const follower = this.#follower(sessionId);
    this.#following.set(sessionId, follower);
    try {
      await this.#deps.sessions.follow(sessionId, follower);
    } catch (error) {
      this.#following.delete(sessionId);
      throw error;
    }
    const member = (await this.#deps.state.membership(sessionId, this.userId)) === 'member';
    if (!member || this.#closingNow()) {
      this.#unfollow(sessionId);
      return false;
    }
    return true;
  }

  #mayFollow(sessionId: string): boolean {
    return !this.#following.has(sessionId) && !this.#closingNow();
  }

  /** Read through a call: the socket may have started closing while this connection awaited. */
  #closingNow(): boolean {
    return this.closing;
  }

  #unfollow(sessionId: string): boolean {
    const follower = this.#following.get(sessionId);
    if (!follower) return false;
    this.#following.delete(sessionId);
    this.#deps.sessions.unfollow(sessionId, follower);
    return true;
  }

  #left(sessionId: string, reason: SessionRemovedFrame['reason']): void {
    if (!this.#unfollow(sessionId)) return;
    const frame: SessionRemovedFrame = { type: 'session_removed', sessionId, reason };
    this.#send(JSON.stringify(frame), 'session_removed');
  }

  #follower(sessionId: string): SessionFollower {
    return {
      userId: this.userId,
      receiveSummary: (frame) => this.#send(frame),
      readMoved: (seq) => {
        const frame: FeedReadFrame = { type: 'feed_read', sessionId, seq };
        this.#send(JSON.stringify(frame), 'feed_read');
      },
      receiveStatus: (frame) => this.#send(frame, 'analysis_status'),
      sessionClosed: () => this.#left(sessionId, 'session_closed'),
      memberRemoved: () => this.#left(sessionId, 'member_removed'),
    };
  }

  #send(frame: Buffer | string, type?: string): void {
    if (this.#held) this.#held.push(frame);
    else this.write(frame, type);
  }

  protected override handleFrame(text: string, binary: boolean): Promise<void> | undefined {
    this.#guard ??= new RateGuard({ ratePerSec: this.#deps.ratePerSec, burst: this.#deps.rateBurst });
    return this.answerControlFrame(this.#guard, text, binary, this.#deps);
  }
}
