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
  /**
   * Sets the socket's one listener: it hears pongs and the close from now on (a close that came
   * before is reported at once), and frames once readFrames() is called. One object per socket
   * instead of a closure per event.
   */
  attach(listener: SocketListener): void;
  /** Frames go to the listener from now on; those that came earlier are handed over first. */
  readFrames(): void;
  /**
   * The connect is answered (welcomed, refused or closed): the upgrade's response, held back since
   * the upgrade, leaves now with what followed it, in one write. Called once; later calls do nothing.
   */
  releaseHandshake(): void;
}

/** Who hears a socket: its connection. */
export interface SocketListener {
  /** A text frame; `binary` frames are reported too, so they can be refused. */
  socketFrame(text: string, binary: boolean): void;
  socketPong(): void;
  /** Called once, whoever closed. */
  socketClosed(code: number): void;
}

/** What the gateway learns about an upgrade request. */
export interface UpgradeRequest {
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly remoteAddress?: string;
}
