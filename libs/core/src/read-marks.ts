import type { ReadEventFrame } from '@chat/protocol';
import type { Bus, ChatStore, SessionLog } from './ports.ts';
import type { WorkspaceStore } from './workspace-store.ts';

export type ReadMarkResult =
  | { ok: true; seq: number; moved: boolean }
  | { ok: false; code: 'conflict' | 'invalid_input' | 'unavailable'; message: string; cause?: unknown };

/**
 * Moves a member's read cursor forward: never backwards, never past the session's head (the last
 * seq handed out). A move is stored first, then announced on the session's channel as
 * `{"type":"read","userId","seq"}`, which the gateways relay to status sockets.
 */
export class ReadMarks {
  readonly #state: SessionLog;
  readonly #store: ChatStore;
  readonly #workspace: WorkspaceStore;
  readonly #bus: Bus;
  readonly #onRelayError: (error: unknown) => void;

  constructor(deps: { state: SessionLog; store: ChatStore; workspace: WorkspaceStore; bus: Bus; onRelayError?: (error: unknown) => void }) {
    this.#state = deps.state;
    this.#store = deps.store;
    this.#workspace = deps.workspace;
    this.#bus = deps.bus;
    this.#onRelayError = deps.onRelayError ?? (() => undefined);
  }

  /** The caller has been admitted to the session already (a member's socket or an authorized request). */
  async mark(sessionId: string, userId: string, seq: number): Promise<ReadMarkResult> {
    let head: number;
    let move;
    try {
      head = (await this.#state.head(sessionId)) ?? (await this.#store.maxSeq(sessionId));
      if (seq > head) return { ok: false, code: 'invalid_input', message: `seq ${seq} is past the session's last message (${head}); nothing changed.` };
      move = await this.#workspace.moveReadCursor(sessionId, userId, seq);
    } catch (cause) {
      return { ok: false, code: 'unavailable', message: 'The read mark could not be stored; send it again.', cause };
    }
    if (move.status === 'behind') {
      return { ok: false, code: 'conflict', message: `The read mark is at ${move.current} already and only moves forward; nothing changed.` };
    }
    if (move.status === 'moved') {
      const event: ReadEventFrame = { type: 'read', userId, seq: move.seq };
      // Stored already: a lost announcement only delays what others see until they reload.
      await this.#bus.publish(sessionId, JSON.stringify(event)).catch(this.#onRelayError);
    }
    return { ok: true, seq: move.seq, moved: move.status === 'moved' };
  }
}
