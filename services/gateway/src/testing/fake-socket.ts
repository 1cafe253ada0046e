import type { OutgoingFrame, Socket } from '../socket.ts';

/** A Socket with no network behind it: records what is sent and lets a test play the peer. */
export class FakeSocket implements Socket {
  bufferedAmount = 0;
  /** Bytes each send adds to bufferedAmount, to play a peer that does not read. */
  growPerSend = 0;
  readonly sent: string[] = [];
  closedWith: { code: number; reason: string | undefined } | undefined;
  terminated = false;
  pings = 0;
  #onMessage: ((text: string, binary: boolean) => void) | undefined;
  #onPong: (() => void) | undefined;
  #onClose: ((code: number) => void) | undefined;

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

  onMessage(listener: (text: string, binary: boolean) => void): void {
    this.#onMessage = listener;
  }

  onPong(listener: () => void): void {
    this.#onPong = listener;
  }

  onClose(listener: (code: number) => void): void {
    this.#onClose = listener;
  }

  /** The peer sends a text frame. */
  receive(text: string): void {
    this.#onMessage?.(text, false);
  }

  pong(): void {
    this.#onPong?.();
  }

  peerClosed(code: number): void {
    const listener = this.#onClose;
    this.#onClose = undefined;
    listener?.(code);
  }

  frames(): { type: string; [key: string]: unknown }[] {
    return this.sent.map((text) => JSON.parse(text) as { type: string });
  }
}
