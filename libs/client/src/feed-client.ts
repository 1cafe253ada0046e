import {
  feedServerFrameSchema,
  type AnalysisStatusFrame,
  type AuthenticatedFrame,
  type ErrorFrame,
  type FeedMessageFrame,
  type FeedOpenFrame,
  type FeedReadFrame,
  type FeedServerFrame,
  type SessionAddedFrame,
  type SessionRemovedFrame,
} from '@chat/protocol';
import { EventEmitter } from 'eventemitter3';
import { ApiClient, type FetchLike } from './api-client.ts';
import type { ConnectionState } from './connection-state.ts';
import { browserEnvironment, type EnvironmentSignals } from './environment.ts';
import { ChatClientError } from './errors.ts';
import { ManagedSocket } from './managed-socket.ts';
import { ReconnectPolicy, type BackoffOptions } from './reconnect-policy.ts';
import type { WebSocketConstructor } from './socket.ts';
import { TokenKeeper, type TokenProvider } from './token-keeper.ts';

export interface FeedClientOptions {
  token: string;
  /** As in ChatClientOptions: renews the token before it expires (an `auth` frame) and after a 4401. */
  tokenProvider?: TokenProvider;
  renewBeforeMs?: number;
  /** Base of the gateway, or the bases of several replicas (see ChatClientOptions.wsUrl). */
  wsUrl: string | readonly string[];
  /** Base of the session-api, for `GET /status` while chat is turned off; empty for the page's origin. */
  apiUrl: string;
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  backoff?: BackoffOptions;
  disabledPollMs?: number;
  /** Application-level ping interval; 0 turns it off. */
  heartbeatMs?: number;
  /** Online/visibility signals; defaults to the browser's when present, `null` for none. */
  environment?: EnvironmentSignals | null;
}

export interface FeedClientEvents {
  state: [ConnectionState];
  /** Each (re)connect: what is followed now. Whatever happened while disconnected is not replayed: read the session list again. */
  open: [FeedOpenFrame];
  feed_message: [FeedMessageFrame];
  feed_read: [FeedReadFrame];
  analysis_status: [AnalysisStatusFrame];
  session_added: [SessionAddedFrame];
  session_removed: [SessionRemovedFrame];
  error: [ErrorFrame];
  authenticated: [AuthenticatedFrame];
}

/**
 * The user's feed (`/ws/feed`): what a session list needs from all their sessions, on one socket
 * that reconnects, renews its token and waits out a chat switch like the chat sockets do.
 */
export class FeedClient extends EventEmitter<FeedClientEvents> {
  readonly #socket: ManagedSocket;
  readonly #tokens: TokenKeeper;
  readonly #api: ApiClient;
  readonly #environment: EnvironmentSignals | undefined;
  readonly #unlisten: (() => void)[] = [];
  /** The token the current socket was opened with: one renewed meanwhile is sent once it is open. */
  #openedWith: string | undefined;
  #started = false;

  constructor(options: FeedClientOptions) {
    super();
    const bases = typeof options.wsUrl === 'string' ? [options.wsUrl] : options.wsUrl;
    if (bases.length === 0) throw new ChatClientError('invalid_input', 'wsUrl names no gateway.');
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketImpl === undefined) throw new ChatClientError('invalid_input', 'No WebSocket implementation: pass the WebSocket option.');
    this.#tokens = new TokenKeeper({
      token: options.token,
      ...(options.tokenProvider === undefined ? {} : { provider: options.tokenProvider }),
      renewBeforeMs: options.renewBeforeMs ?? 60_000,
      onRenewed: (token) => this.#onTokenRenewed(token),
    });
    this.#api = new ApiClient({ apiUrl: options.apiUrl, token: options.token, ...(options.fetch ? { fetch: options.fetch } : {}) });
    this.#environment = options.environment === null ? undefined : (options.environment ?? browserEnvironment());
    const heartbeatMs = options.heartbeatMs ?? 25_000;
    this.#socket = new ManagedSocket({
      url: (replica) => this.#url(bases, replica),
      replicas: bases.length,
      WebSocket: WebSocketImpl,
      policy: new ReconnectPolicy(options.backoff),
      onText: (text) => this.#onText(text),
      onState: (state) => this.#onState(state),
      isChatOn: async () => (await this.#api.chatStatus()).chat === 'on',
      ...(options.tokenProvider === undefined ? {} : { renewToken: () => this.#tokens.renewNow() }),
      ...(options.disabledPollMs === undefined ? {} : { disabledPollMs: options.disabledPollMs }),
      ...(heartbeatMs > 0 ? { heartbeat: { intervalMs: heartbeatMs, frame: JSON.stringify({ type: 'ping' }) } } : {}),
    });
  }

  get state(): ConnectionState {
    return this.#socket.state;
  }

  connect(): void {
    if (this.#started) return;
    this.#started = true;
    const env = this.#environment;
    if (env) {
      this.#unlisten.push(
        env.onOffline(() => this.#socket.goOffline()),
        env.onOnline(() => this.#socket.goOnline()),
        env.onVisible(() => this.#socket.retryNow()),
      );
      if (!env.isOnline()) this.#socket.goOffline();
    }
    this.#socket.start();
    this.#tokens.start();
  }

  reconnectNow(): void {
    this.#socket.retryNow();
  }

  close(): void {
    this.#started = false;
    this.#unlisten.splice(0).forEach((off) => off());
    this.#tokens.stop();
    this.#socket.stop();
  }

  #url(bases: readonly string[], replica: number): string {
    const base = (bases[replica % bases.length] ?? '').replace(/\/+$/, '');
    this.#openedWith = this.#tokens.token;
    return `${base}/ws/feed?${new URLSearchParams({ token: this.#tokens.token }).toString()}`;
  }

  #onTokenRenewed(token: string): void {
    this.#api.setToken(token);
    if (this.#socket.send(JSON.stringify({ type: 'auth', token }))) this.#openedWith = token;
  }

  #onState(state: ConnectionState): void {
    if (state.status === 'open' && this.#openedWith !== this.#tokens.token) this.#onTokenRenewed(this.#tokens.token);
    this.emit('state', state);
  }

  #onText(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = feedServerFrameSchema.safeParse(raw);
    // A frame this version does not know is skipped: the server may add frames.
    if (!parsed.success) return;
    this.#emitFrame(parsed.data);
  }

  #emitFrame(frame: FeedServerFrame): void {
    switch (frame.type) {
      case 'feed_open':
        this.emit('open', frame);
        return;
      case 'feed_message':
        this.emit('feed_message', frame);
        return;
      case 'feed_read':
        this.emit('feed_read', frame);
        return;
      case 'analysis_status':
        this.emit('analysis_status', frame);
        return;
      case 'session_added':
        this.emit('session_added', frame);
        return;
      case 'session_removed':
        this.emit('session_removed', frame);
        return;
      case 'error':
        this.emit('error', frame);
        return;
      case 'authenticated':
        this.emit('authenticated', frame);
        return;
      case 'pong':
        return;
    }
  }
}
