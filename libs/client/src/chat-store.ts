import type { AckFrame, AnalysisStatus, ChatMessage } from '@chat/protocol';
import type { ConnectionState } from './connection-state.ts';

/** A send of mine that has no seq yet: waiting for its ack, or refused. */
export interface OutgoingMessage {
  clientMsgId: string;
  body: string;
  metadata: Record<string, unknown> | undefined;
  createdAt: string;
  status: 'pending' | 'failed';
  error?: { code: string; message: string };
}

export interface ChatState {
  connection: ConnectionState;
  userId: string | undefined;
  /** Ascending by seq, one entry per seq. */
  messages: readonly ChatMessage[];
  outgoing: readonly OutgoingMessage[];
  online: readonly string[];
  /** userId → display name, from tokens as seen in messages and presence. */
  names: Readonly<Record<string, string>>;
  /** userId → epoch ms after which the typing hint lapses. */
  typing: Readonly<Record<string, number>>;
  hasOlder: boolean;
  loadingOlder: boolean;
  sessionClosed: boolean;
  /** The latest error not tied to one send. */
  lastError: { code: string; message: string } | undefined;
  /** userId → how far they have read (read cursors from history, then live `read` events). */
  reads: Readonly<Record<string, number>>;
  /** The latest reported state of the session's analysis, or null before any. */
  analysisStatus: AnalysisStatus | null;
}

export type Listener = (state: ChatState) => void;

const initialState: ChatState = {
  connection: { status: 'idle' },
  userId: undefined,
  messages: [],
  outgoing: [],
  online: [],
  names: {},
  typing: {},
  hasOlder: true,
  loadingOlder: false,
  sessionClosed: false,
  lastError: undefined,
  reads: {},
  analysisStatus: null,
};

/** A framework-free store of one session's view; every change replaces the state object. */
export class ChatStore {
  #state: ChatState = initialState;
  readonly #listeners = new Set<Listener>();
  readonly #bySeq = new Map<number, ChatMessage>();
  readonly #ids = new Set<string>();

  getState(): ChatState {
    return this.#state;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  hasSeq(seq: number): boolean {
    return this.#bySeq.has(seq);
  }

  maxSeq(): number | undefined {
    return this.#state.messages.at(-1)?.seq;
  }

  minSeq(): number | undefined {
    return this.#state.messages[0]?.seq;
  }

  setConnection(connection: ConnectionState): void {
    this.#update({ connection });
  }

  setUser(userId: string): void {
    this.#update({ userId });
  }

  /** Read cursors only move forward, whatever order history and live events arrive in. */
  setReads(reads: readonly { userId: string; seq: number }[]): void {
    const next = { ...this.#state.reads };
    let changed = false;
    for (const { userId, seq } of reads) {
      if ((next[userId] ?? 0) >= seq) continue;
      next[userId] = seq;
      changed = true;
    }
    if (changed) this.#update({ reads: next });
  }

  setAnalysisStatus(status: AnalysisStatus): void {
    const current = this.#state.analysisStatus;
    if (current !== null && current.updatedAt > status.updatedAt) return;
    this.#update({ analysisStatus: status });
  }

  /** Adds messages not seen before (by seq or id); returns those that were new. */
  addMessages(incoming: readonly ChatMessage[]): ChatMessage[] {
    const unique: ChatMessage[] = [];
    for (const m of incoming) {
      if (this.#bySeq.has(m.seq) || this.#ids.has(m.id)) continue;
      this.#bySeq.set(m.seq, m);
      this.#ids.add(m.id);
      unique.push(m);
    }
    if (unique.length === 0) return [];
    const mine = new Set(unique.filter((m) => m.userId === this.#state.userId).map((m) => m.clientMsgId));
    const messages = [...this.#state.messages, ...unique].sort((a, b) => a.seq - b.seq);
    // Someone whose message just arrived has stopped typing it.
    const authors = new Set(unique.map((m) => m.userId));
    const typing = Object.fromEntries(Object.entries(this.#state.typing).filter(([userId]) => !authors.has(userId)));
    this.#update({
      messages,
      typing,
      outgoing: this.#state.outgoing.filter((o) => !mine.has(o.clientMsgId)),
      names: this.#withNames(unique.map((m) => [m.userId, m.userName])),
    });
    return unique;
  }

  addOutgoing(message: OutgoingMessage): void {
    const rest = this.#state.outgoing.filter((o) => o.clientMsgId !== message.clientMsgId);
    this.#update({ outgoing: [...rest, message] });
  }

  /** Turns an acknowledged send into a message, unless its fan-out copy already arrived. */
  confirm(ack: AckFrame, sessionId: string): ChatMessage | undefined {
    const sent = this.#state.outgoing.find((o) => o.clientMsgId === ack.clientMsgId);
    const userId = this.#state.userId;
    if (!sent || userId === undefined) return undefined;
    const message: ChatMessage = {
      type: 'message',
      id: ack.id,
      sessionId,
      seq: ack.seq,
      userId,
      body: sent.body,
      metadata: sent.metadata ?? {},
      timestamp: ack.timestamp,
      clientMsgId: ack.clientMsgId,
    };
    const added = this.addMessages([message]);
    this.removeOutgoing(ack.clientMsgId);
    return added[0];
  }

  fail(clientMsgId: string, error: { code: string; message: string }): void {
    this.#update({
      outgoing: this.#state.outgoing.map((o) => (o.clientMsgId === clientMsgId ? { ...o, status: 'failed', error } : o)),
    });
  }

  removeOutgoing(clientMsgId: string): void {
    if (!this.#state.outgoing.some((o) => o.clientMsgId === clientMsgId)) return;
    this.#update({ outgoing: this.#state.outgoing.filter((o) => o.clientMsgId !== clientMsgId) });
  }

  setPresence(online: readonly string[], names: Record<string, string> = {}): void {
    this.#update({ online: [...new Set(online)], names: this.#withNames(Object.entries(names)) });
  }

  join(userId: string, userName?: string): void {
    const online = this.#state.online.includes(userId) ? this.#state.online : [...this.#state.online, userId];
    this.#update({ online, names: this.#withNames([[userId, userName]]) });
  }

  leave(userId: string): void {
    const { [userId]: _gone, ...typing } = this.#state.typing;
    this.#update({ online: this.#state.online.filter((id) => id !== userId), typing });
  }

  typing(userId: string, until: number, userName?: string): void {
    this.#update({ typing: { ...this.#state.typing, [userId]: until }, names: this.#withNames([[userId, userName]]) });
  }

  /** Drops typing hints that lapsed before `now`. */
  pruneTyping(now: number): void {
    const entries = Object.entries(this.#state.typing);
    const kept = entries.filter(([, until]) => until > now);
    if (kept.length !== entries.length) this.#update({ typing: Object.fromEntries(kept) });
  }

  setOlder(patch: { hasOlder?: boolean; loadingOlder?: boolean }): void {
    this.#update(patch);
  }

  closeSession(): void {
    this.#update({ sessionClosed: true });
  }

  setError(error: { code: string; message: string } | undefined): void {
    this.#update({ lastError: error });
  }

  #withNames(pairs: readonly (readonly [string, string | undefined])[]): Readonly<Record<string, string>> {
    const known = this.#state.names;
    const changed = pairs.filter((pair): pair is [string, string] => pair[1] !== undefined && known[pair[0]] !== pair[1]);
    return changed.length === 0 ? known : { ...known, ...Object.fromEntries(changed) };
  }

  #update(patch: Partial<ChatState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener(this.#state);
  }
}
