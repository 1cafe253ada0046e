import {
  chatServerFrameSchema,
  statusServerFrameSchema,
  type AckFrame,
  type AnalysisStatusFrame,
  type AuthenticatedFrame,
  type ChatMessage,
  type ChatServerFrame,
  type ErrorFrame,
  type JoinFrame,
  type LeaveFrame,
  type PresenceFrame,
  type ReadEventFrame,
  type SendFrame,
  type StatusServerFrame,
  type TypingEventFrame,
  type WelcomeFrame,
} from '@chat/protocol';
import { EventEmitter } from 'eventemitter3';
import type { ApiClient } from './api-client.ts';
import { ChatStore } from './chat-store.ts';
import { newClientMsgId } from './client-msg-id.ts';
import type { ConnectionState } from './connection-state.ts';
import { ChatClientError, errorOfClose } from './errors.ts';
import { Outbox } from './outbox.ts';
import { parseFrame, RouteSockets, type GatewayConnectionOptions } from './route-sockets.ts';

export interface ChatClientOptions extends GatewayConnectionOptions {
  sessionId: string;
  /** Application-level ping interval on the chat socket; 0 turns it off. */
  heartbeatMs?: number;
  /**
   * After a send is answered `unavailable` (its outcome unknown: it may still be stored), the first
   * wait before it is sent again with the same clientMsgId; each later wait doubles, up to 5 s.
   */
  resendAfterUnavailableMs?: number;
  /** Resume after this seq (e.g. a cached view); omitted for a fresh view. */
  lastSeq?: number;
  historyPageSize?: number;
  /** Wait before filling a hole that in-order delivery may still close by itself. */
  gapCheckMs?: number;
  typingTtlMs?: number;
  /** Whether to open the status route (presence and typing). */
  status?: boolean;
}

export interface ChatClientEvents {
  state: [ConnectionState];
  welcome: [WelcomeFrame];
  message: [ChatMessage];
  ack: [AckFrame];
  error: [ErrorFrame];
  pong: [];
  /** The chat socket accepted a renewed token; its rights now last until `expiresAt`. */
  authenticated: [AuthenticatedFrame];
  session_closed: [];
  presence: [PresenceFrame];
  join: [JoinFrame];
  leave: [LeaveFrame];
  typing: [TypingEventFrame];
  /** A member's read cursor moved forward. */
  read: [ReadEventFrame];
  analysis_status: [AnalysisStatusFrame];
  /** Messages `from..to` were missing from the live stream and were fetched from history. */
  gap: [{ from: number; to: number }];
}

const TYPING_THROTTLE_MS = 2_000;
const RESEND_MAX_MS = 5_000;

/** One session's chat: two managed sockets, an outbox, gap repair from history, and a store for a UI. */
export class ChatClient extends EventEmitter<ChatClientEvents> {
  readonly store = new ChatStore();
  readonly api: ApiClient;
  readonly #options: ChatClientOptions;
  readonly #routes: RouteSockets<'chat' | 'status'>;
  readonly #outbox = new Outbox();
  /** Highest seq up to which this client holds every message; the resume cursor. */
  #lastSeq: number | undefined;
  #filling = false;
  #fillAgain = false;
  #gapTimer: ReturnType<typeof setTimeout> | undefined;
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #resendTimers = new Set<ReturnType<typeof setTimeout>>();
  #lastTypingSent = 0;
  #welcomed = false;
  /** The highest head announced by a welcome: messages up to it exist even if none arrived yet. */
  #headSeen = 0;

  constructor(options: ChatClientOptions) {
    super();
    this.#options = options;
    this.#lastSeq = options.lastSeq;
    const path = (route: 'chat' | 'status') => `/ws/${route}/${encodeURIComponent(options.sessionId)}`;
    this.#routes = new RouteSockets(options, {
      chat: {
        path: path('chat'),
        query: (): Record<string, string> => (this.#lastSeq === undefined ? {} : { lastSeq: String(this.#lastSeq) }),
        onText: (text) => this.#onChatText(text),
        onState: (state) => this.#onChatState(state),
        heartbeatMs: options.heartbeatMs ?? 25_000,
      },
      ...(options.status === false ? {} : { status: { path: path('status'), onText: (text: string) => this.#onStatusText(text) } }),
    });
    this.api = this.#routes.api;
  }

  get state(): ConnectionState {
    return this.#routes.state('chat');
  }

  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  get sessionId(): string {
    return this.#options.sessionId;
  }

  connect(): void {
    this.#routes.connect();
  }

  /** Cuts a backoff wait short, e.g. when a person presses "try now". */
  reconnectNow(): void {
    this.#routes.reconnectNow();
  }

  /** Closes both sockets for good; unacknowledged sends stay failed in the store. */
  close(): void {
    this.#clearTimers();
    this.#routes.close();
    this.#failAll(() => new ChatClientError('closed', 'The connection was closed.'));
  }

  /** Resolves with the ack once the message is durable; kept and resent across reconnects until then. */
  send(body: string, metadata?: Record<string, unknown>): Promise<AckFrame> {
    const frame: SendFrame = { type: 'send', clientMsgId: newClientMsgId(), body, ...(metadata === undefined ? {} : { metadata }) };
    return this.#enqueue(frame);
  }

  /**
   * Sends a failed message again with its original clientMsgId, so it cannot be stored twice. One
   * this client already holds as stored resolves at once with its id and seq.
   */
  retry(clientMsgId: string): Promise<AckFrame> {
    const held = this.#heldOwn(clientMsgId);
    if (held) return Promise.resolve(ackOf(held, clientMsgId));
    const failed = this.store.getState().outgoing.find((o) => o.clientMsgId === clientMsgId && o.status === 'failed');
    // A pending send is already in the outbox and goes out again by itself after a reconnect.
    if (!failed) return Promise.reject(new ChatClientError('invalid_input', 'No such failed message.'));
    const frame: SendFrame = { type: 'send', clientMsgId, body: failed.body, ...(failed.metadata === undefined ? {} : { metadata: failed.metadata }) };
    return this.#enqueue(frame);
  }

  /** Forgets a failed send. */
  discard(clientMsgId: string): void {
    this.#outbox.reject(clientMsgId, new ChatClientError('discarded', 'The message was discarded.'));
    this.store.removeOutgoing(clientMsgId);
  }

  /** Tells others this user is typing; throttled, and dropped while disconnected. */
  /**
   * Marks the session read up to `seq` (only forward: a seq at or below the cursor this client knows
   * is not sent). False when the chat socket could not take the frame.
   */
  markRead(seq: number): boolean {
    const state = this.store.getState();
    const me = state.userId;
    if (me === undefined || seq <= (state.reads[me] ?? 0)) return false;
    const sent = this.#routes.send('chat', JSON.stringify({ type: 'read', seq }));
    // Known at once, so a burst of new messages sends one mark each, not the same one again.
    if (sent) this.store.setReads([{ userId: me, seq }]);
    return sent;
  }

  typing(): void {
    const now = Date.now();
    if (now - this.#lastTypingSent < TYPING_THROTTLE_MS) return;
    if (this.#routes.send('chat', JSON.stringify({ type: 'typing' }))) this.#lastTypingSent = now;
  }

  /** Loads the page of history before the oldest message held (the latest page when none is held). */
  async loadOlder(limit = this.#options.historyPageSize ?? 50): Promise<void> {
    const state = this.store.getState();
    if (state.loadingOlder || !state.hasOlder) return;
    const oldest = this.store.minSeq();
    if (oldest === 1) return this.store.setOlder({ hasOlder: false });
    this.store.setOlder({ loadingOlder: true });
    try {
      const page = await this.api.history(this.sessionId, oldest === undefined ? { limit } : { before: oldest, limit });
      // Cursors first, so a view never sees the page without them (and marks it all unread).
      if (page.reads) this.store.setReads(page.reads);
      this.#addMessages(page.messages);
      this.store.setOlder({ hasOlder: page.hasMore, loadingOlder: false });
    } catch (error) {
      this.store.setOlder({ loadingOlder: false });
      this.store.setError(describe(error));
      throw error;
    }
  }

  #enqueue(frame: SendFrame): Promise<AckFrame> {
    const state = this.#routes.state('chat');
    // After a final close nothing will carry the send: fail it now rather than keep it pending forever.
    const refusal = this.store.getState().sessionClosed
      ? new ChatClientError('not_found', 'The session is closed.')
      : state.status === 'closed'
        ? state.code === 1000
          ? new ChatClientError('closed', 'The connection was closed.')
          : errorOfClose(state.code, state.reason)
        : undefined;
    this.store.addOutgoing({
      clientMsgId: frame.clientMsgId,
      body: frame.body,
      metadata: frame.metadata,
      createdAt: new Date().toISOString(),
      status: 'pending',
    });
    if (refusal) {
      this.store.fail(frame.clientMsgId, { code: refusal.code, message: refusal.message });
      return Promise.reject(refusal);
    }
    const acked = this.#outbox.add(frame);
    if (this.#welcomed) this.#routes.send('chat', JSON.stringify(frame));
    return acked;
  }

  #onChatState(state: ConnectionState): void {
    if (state.status !== 'open') this.#welcomed = false;
    this.store.setConnection(state);
    if (state.status === 'closed' && state.code !== 1000) {
      this.#routes.stop('status', state.code);
      this.#failAll(() => errorOfClose(state.code, state.reason));
    }
    // Nothing is accepted while chat is off: what waits in the outbox fails now rather than at some later reconnect.
    if (state.status === 'disabled') this.#failAll(() => new ChatClientError('chat_disabled', 'Chat is turned off.'));
    this.emit('state', state);
  }

  #onChatText(text: string): void {
    const frame = parseFrame(text, chatServerFrameSchema);
    if (frame) this.#onChatFrame(frame);
  }

  #onChatFrame(frame: ChatServerFrame): void {
    switch (frame.type) {
      case 'welcome':
        return this.#onWelcome(frame);
      case 'message':
        return this.#onMessage(frame);
      case 'ack':
        return this.#onAck(frame);
      case 'error':
        return this.#onError(frame);
      case 'pong':
        this.emit('pong');
        return;
      case 'session_closed':
        return this.#onSessionClosed();
      case 'authenticated':
        this.emit('authenticated', frame);
        return;
    }
  }

  #onWelcome(frame: WelcomeFrame): void {
    this.store.setUser(frame.userId);
    this.#welcomed = true;
    this.#headSeen = Math.max(this.#headSeen, frame.seq);
    if (this.#lastSeq === undefined) this.#lastSeq = this.store.maxSeq() ?? frame.seq;
    this.emit('welcome', frame);
    // Resent with the same clientMsgId: the server acks a repeat with the first id and seq.
    for (const pending of this.#outbox.frames()) this.#routes.send('chat', JSON.stringify(pending));
    if (frame.seq > this.#lastSeq) this.#scheduleGapCheck();
  }

  #onMessage(message: ChatMessage): void {
    this.#addMessages([message]);
    const last = this.#lastSeq;
    if (last !== undefined && message.seq > last + 1) void this.#fillGap();
  }

  #onAck(ack: AckFrame): void {
    const message = this.store.confirm(ack, this.sessionId);
    if (message) this.#afterNewMessages([message]);
    this.#outbox.resolve(ack);
    this.emit('ack', ack);
  }

  #onError(frame: ErrorFrame): void {
    const { code, message, clientMsgId } = frame;
    const held = clientMsgId === undefined ? undefined : this.#heldOwn(clientMsgId);
    if (clientMsgId !== undefined && held) {
      // Whatever this attempt was told, the message is stored: the copy held says where.
      this.#outbox.resolve(ackOf(held, clientMsgId));
    } else if (clientMsgId !== undefined && code === 'unavailable' && this.#outbox.has(clientMsgId)) {
      // The outcome is unknown (a publish that timed out may still land): only a resend with the
      // same clientMsgId can tell, and it is answered with the first id and seq if it landed.
      this.#resendLater(clientMsgId);
    } else if (clientMsgId !== undefined && this.store.getState().outgoing.some((o) => o.clientMsgId === clientMsgId)) {
      this.store.fail(clientMsgId, { code, message });
      this.#outbox.reject(clientMsgId, new ChatClientError(code, message));
    } else {
      this.store.setError({ code, message });
    }
    this.emit('error', frame);
  }

  #resendLater(clientMsgId: string): void {
    const count = this.#outbox.noteUnavailable(clientMsgId);
    const delayMs = Math.min(RESEND_MAX_MS, (this.#options.resendAfterUnavailableMs ?? 500) * 2 ** (count - 1));
    const timer = setTimeout(() => {
      this.#resendTimers.delete(timer);
      const frame = this.#outbox.frame(clientMsgId);
      // Not welcomed: the next welcome resends every pending send anyway.
      if (frame && this.#welcomed) this.#routes.send('chat', JSON.stringify(frame));
    }, delayMs);
    this.#resendTimers.add(timer);
  }

  /** This user's own stored message with `clientMsgId`, if this client holds it. */
  #heldOwn(clientMsgId: string): ChatMessage | undefined {
    const { messages, userId } = this.store.getState();
    return userId === undefined ? undefined : messages.find((m) => m.clientMsgId === clientMsgId && m.userId === userId);
  }

  #onSessionClosed(): void {
    if (this.store.getState().sessionClosed) return;
    this.store.closeSession();
    this.#failAll(() => new ChatClientError('not_found', 'The session is closed.'));
    this.emit('session_closed');
  }

  #onStatusText(text: string): void {
    const frame = parseFrame(text, statusServerFrameSchema);
    if (frame) this.#onStatusFrame(frame);
  }

  #onStatusFrame(frame: StatusServerFrame): void {
    switch (frame.type) {
      case 'presence':
        this.store.setPresence(frame.online, frame.names);
        this.emit('presence', frame);
        return;
      case 'join':
        this.store.join(frame.userId, frame.userName);
        this.emit('join', frame);
        return;
      case 'leave':
        this.store.leave(frame.userId);
        this.emit('leave', frame);
        return;
      case 'typing':
        return this.#onTyping(frame);
      case 'read':
        this.store.setReads([frame]);
        this.emit('read', frame);
        return;
      case 'analysis_status': {
        const { type: _type, ...status } = frame;
        this.store.setAnalysisStatus(status);
        this.emit('analysis_status', frame);
        return;
      }
      case 'session_closed':
        return this.#onSessionClosed();
      case 'error':
        this.store.setError({ code: frame.code, message: frame.message });
        return;
      case 'authenticated':
      case 'pong':
        return;
    }
  }

  #onTyping(frame: TypingEventFrame): void {
    if (frame.userId === this.store.getState().userId) return;
    const ttl = this.#options.typingTtlMs ?? 4_000;
    this.store.typing(frame.userId, Date.now() + ttl, frame.userName);
    if (this.#typingTimer !== undefined) clearTimeout(this.#typingTimer);
    this.#typingTimer = setTimeout(() => this.store.pruneTyping(Date.now()), ttl + 50);
    this.emit('typing', frame);
  }

  #addMessages(messages: readonly ChatMessage[]): void {
    this.#afterNewMessages(this.store.addMessages(messages));
  }

  #afterNewMessages(fresh: readonly ChatMessage[]): void {
    for (const message of fresh) {
      if (message.userId === this.store.getState().userId && message.clientMsgId !== undefined) {
        // A copy of my own message (live, resumed or from history) is proof it is stored: it settles
        // the send with the stored id and seq, even if the ack never comes (e.g. it was answered
        // `unavailable` and landed anyway).
        this.store.removeOutgoing(message.clientMsgId);
        this.#outbox.resolve(ackOf(message, message.clientMsgId));
      }
      this.emit('message', message);
    }
    this.#advance();
  }

  /** Moves the resume cursor over every seq now held without a hole. */
  #advance(): void {
    let last = this.#lastSeq;
    if (last === undefined) return;
    while (this.store.hasSeq(last + 1)) last += 1;
    this.#lastSeq = last;
    const max = this.store.maxSeq();
    if (max !== undefined && max > last) this.#scheduleGapCheck();
  }

  #scheduleGapCheck(): void {
    if (this.#gapTimer !== undefined) return;
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = undefined;
      void this.#fillGap();
    }, this.#options.gapCheckMs ?? 1_000);
  }

  /** Fetches `after=lastSeq` until the cursor reaches the newest seq known to exist. */
  async #fillGap(): Promise<void> {
    if (this.#filling) {
      this.#fillAgain = true;
      return;
    }
    this.#filling = true;
    try {
      for (let again = true; again; again = this.#takeFillAgain()) await this.#fillOnce();
    } catch (error) {
      this.store.setError(describe(error));
      this.#scheduleGapCheck();
    } finally {
      this.#filling = false;
    }
  }

  #takeFillAgain(): boolean {
    const again = this.#fillAgain;
    this.#fillAgain = false;
    return again;
  }

  async #fillOnce(): Promise<void> {
    const from = this.#lastSeq;
    const target = () => Math.max(this.store.maxSeq() ?? 0, this.#headSeen);
    if (from === undefined || target() <= from) return;
    const limit = Math.min(500, this.#options.historyPageSize ?? 100);
    for (;;) {
      const before = this.#lastSeq ?? from;
      if (target() <= before) break;
      const page = await this.api.history(this.sessionId, { after: before, limit });
      this.#addMessages(page.messages);
      if (!page.hasMore || (this.#lastSeq ?? from) === before) break;
    }
    const to = this.#lastSeq ?? from;
    if (to > from) this.emit('gap', { from: from + 1, to });
  }

  #failAll(error: (clientMsgId: string) => ChatClientError): void {
    for (const id of this.#outbox.rejectAll(error)) {
      const reason = error(id);
      this.store.fail(id, { code: reason.code, message: reason.message });
    }
  }

  #clearTimers(): void {
    for (const timer of this.#resendTimers) clearTimeout(timer);
    this.#resendTimers.clear();
    if (this.#gapTimer !== undefined) clearTimeout(this.#gapTimer);
    if (this.#typingTimer !== undefined) clearTimeout(this.#typingTimer);
    this.#gapTimer = undefined;
    this.#typingTimer = undefined;
  }
}

/** The ack a stored copy of one's own message stands for. */
function ackOf(message: ChatMessage, clientMsgId: string): AckFrame {
  return { type: 'ack', clientMsgId, id: message.id, seq: message.seq, timestamp: message.timestamp };
}

function describe(error: unknown): { code: string; message: string } {
  if (error instanceof ChatClientError) return { code: error.code, message: error.message };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}
