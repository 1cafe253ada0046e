import type { Principal } from '@chat/auth';
import type { SessionPresence, SessionRoster, WorkspaceStore } from '@chat/core';
import { CLOSE_CODES, type AnalysisStatus, type JsonBounds } from '@chat/protocol';
import { removedWhileAdmitted } from './admission.ts';
import { Connection, type ConnectionSettings } from './connection.ts';
import type { GatewayLogger } from './gateway-logger.ts';
import type { LocalSessions, SessionMember } from './local-sessions.ts';
import { RateGuard } from './rate-guard.ts';
import type { Socket } from './socket.ts';

export interface StatusConnectionDeps extends ConnectionSettings {
  state: SessionPresence & SessionRoster;
  sessions: LocalSessions;
  logger: GatewayLogger;
  maxMessageChars: number;
  jsonBounds: JsonBounds;
  ratePerSec: number;
  rateBurst: number;
  /** Where the latest analysis status is read on open; without it none is sent. */
  workspace?: WorkspaceStore;
}

/**
 * One `/ws/status/{session}` socket: the online list on open (and the analysis status, when one was
 * reported), then join, leave, typing, read and analysis_status events.
 * Events that arrive while the list is being read are held and sent after it.
 */
export class StatusConnection extends Connection implements SessionMember {
  readonly kind = 'status';
  readonly sessionId: string;
  readonly #deps: StatusConnectionDeps;
  /** Made at the first frame: an idle connection holds no buckets. */
  #guard: RateGuard | undefined;
  #held: Buffer[] | undefined = [];
  #attached = false;

  constructor(socket: Socket, principal: Principal, sessionId: string, deps: StatusConnectionDeps, id?: string) {
    super(socket, principal, deps, 'status', id);
    this.sessionId = sessionId;
    this.#deps = deps;
  }

  async open(): Promise<void> {
    let online: { userId: string; userName?: string }[];
    let status: AnalysisStatus | null = null;
    try {
      await this.#deps.sessions.attach(this.sessionId, this);
      this.#attached = true;
      if (await removedWhileAdmitted(this.#deps.state, this.sessionId, this.principal)) {
        this.#detach();
        this.memberRemoved();
        return;
      }
      [online, status] = await Promise.all([this.#deps.state.presenceOnline(this.sessionId), this.#deps.workspace?.analysisStatus(this.sessionId) ?? null]);
    } catch (error) {
      this.#deps.logger.warn({ err: error, sessionId: this.sessionId }, 'could not open a status connection');
      this.end(CLOSE_CODES.tryAgainLater, 'unavailable');
      return;
    }
    if (this.closed) {
      this.#detach();
      return;
    }
    const names = Object.fromEntries(online.flatMap((user) => (user.userName === undefined ? [] : [[user.userId, user.userName]])));
    // `names` is an addition to the contract's frame; it is left out when nobody online has one.
    const frame = { type: 'presence', online: online.map((user) => user.userId), ...(Object.keys(names).length === 0 ? {} : { names }) };
    this.write(JSON.stringify(frame), 'presence');
    // A live change held meanwhile is newer and follows, so the client ends on the latest state.
    if (status !== null) this.write(JSON.stringify({ type: 'analysis_status', ...status }), 'analysis_status');
    this.welcomed();
    this.listen();
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const frame of held) this.write(frame);
  }

  receiveMessage(): void {
    // Chat messages are for chat sockets.
  }

  receiveEvent(frame: Buffer): void {
    if (this.#held) this.#held.push(frame);
    else this.write(frame);
  }

  protected override cleanUp(): Promise<void> {
    this.#detach();
    return Promise.resolve();
  }

  #detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#deps.sessions.detach(this.sessionId, this);
  }

  protected override handleFrame(text: string, binary: boolean): Promise<void> | undefined {
    this.#guard ??= new RateGuard({ ratePerSec: this.#deps.ratePerSec, burst: this.#deps.rateBurst });
    return this.answerControlFrame(this.#guard, text, binary, this.#deps);
  }
}
