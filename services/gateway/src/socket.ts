/** A frame to write: serialized once, then handed to every recipient as is. A buffer is a message shared by many sockets, whose wire bytes the adapter may build once for all of them. */
export type OutgoingFrame = string | Buffer;

/**
 * The little the gateway needs from a WebSocket. The transport adapter (ws-adapter.ts) is the
 * only code that knows the socket library; everything else, and every unit test, sees this.
 */
export interface Socket {
  /** Bytes queued for the peer but not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** Sends a text frame. */
  send(frame: OutgoingFrame): void;
  close(code: number, reason?: string): void;
  /** Drops the connection without a closing handshake. */
  terminate(): void;
  ping(): void;
  /** Text frames; `binary` frames are reported too, so they can be refused. Frames that arrive before a listener is set are kept for it. */
  onMessage(listener: (text: string, binary: boolean) => void): void;
  onPong(listener: () => void): void;
  /** Called once, whoever closed. */
  onClose(listener: (code: number) => void): void;
}

/** What the gateway learns about an upgrade request. */
export interface UpgradeRequest {
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly remoteAddress?: string;
}
