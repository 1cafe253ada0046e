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
import type { ConnectionState } from './connection-state.ts';
import { parseFrame, RouteSockets, type GatewayConnectionOptions } from './route-sockets.ts';

export interface FeedClientOptions extends GatewayConnectionOptions {
  /** Application-level ping interval; 0 turns it off. */
  heartbeatMs?: number;
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
  readonly #routes: RouteSockets<'feed'>;

  constructor(options: FeedClientOptions) {
    super();
    this.#routes = new RouteSockets(options, {
      feed: {
        path: '/ws/feed',
        onText: (text) => {
          const frame = parseFrame(text, feedServerFrameSchema);
          if (frame) this.#emitFrame(frame);
        },
        onState: (state) => this.emit('state', state),
        heartbeatMs: options.heartbeatMs ?? 25_000,
      },
    });
  }

  get state(): ConnectionState {
    return this.#routes.state('feed');
  }

  connect(): void {
    this.#routes.connect();
  }

  reconnectNow(): void {
    this.#routes.reconnectNow();
  }

  close(): void {
    this.#routes.close();
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
