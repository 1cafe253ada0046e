/**
 * The part of a WebSocket this library uses. The browser's `WebSocket` and the `ws`
 * package's both fit, so Node callers pass `ws` as the constructor option.
 */
// Handlers are declared bivariantly so both the DOM's and `ws`'s event types are accepted.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

export interface CloseEventLike {
  code: number;
  reason: string;
}

export interface MessageEventLike {
  data: unknown;
}

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<MessageEventLike> | null;
  onclose: Handler<CloseEventLike> | null;
  onerror: Handler<unknown> | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export const OPEN = 1;
