import type { OutgoingFrame, Socket, SocketListener } from '../socket.ts';

/** A Socket with no network behind it: records what is sent and lets a test play the peer. */
export class FakeSocket implements Socket {
  bufferedAmount = 0;
  /** Bytes each send adds to bufferedAmount, to play a peer that does not read. */
  growPerSend = 0;
  readonly sent: string[] = [];
  closedWith: { code: number; reason: string | undefined } | undefined;
  terminated = false;
  pings = 0;
  handshakeReleased = false;
  #listener: SocketListener | undefined;
  #reading = false;
  #closed = false;

  send(frame: OutgoingFrame): void {
    this.sent.push(frame.toString());
    this.bufferedAmount += this.growPerSend;
  }

  close(code: number, reason?: string): void {
    this.closedWith ??= { code, reason };
  }

  terminate(): void {
    this.terminated = true;
    this.peerClosed(1006);
  }

  ping(): void {
    this.pings += 1;
  }

  attach(listener: SocketListener): void {
    this.#listener = listener;
  }

  readFrames(): void {
    this.#reading = true;
  }

  releaseHandshake(): void {
    this.handshakeReleased = true;
  }

  /** The peer sends a text frame; one sent before the connection reads frames is dropped. */
  receive(text: string): void {
    if (this.#reading) this.#listener?.socketFrame(text, false);
  }

  pong(): void {
    this.#listener?.socketPong();
  }

  peerClosed(code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener?.socketClosed(code);
  }

  frames(): { type: string; [key: string]: unknown }[] {
    return this.sent.map((text) => JSON.parse(text) as { type: string });
  }
}
