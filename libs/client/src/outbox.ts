import type { AckFrame, SendFrame } from '@chat/protocol';
import type { ChatClientError } from './errors.ts';

interface Entry {
  frame: SendFrame;
  /** Times the server answered `unavailable` to this send. */
  unavailable: number;
  resolve: (ack: AckFrame) => void;
  reject: (error: ChatClientError) => void;
}

/** Sends not yet acknowledged, in the order they were made; each is resent as is after a reconnect. */
export class Outbox {
  readonly #entries = new Map<string, Entry>();

  add(frame: SendFrame): Promise<AckFrame> {
    return new Promise((resolve, reject) => {
      this.#entries.set(frame.clientMsgId, { frame, unavailable: 0, resolve, reject });
    });
  }

  frames(): SendFrame[] {
    return [...this.#entries.values()].map((entry) => entry.frame);
  }

  frame(clientMsgId: string): SendFrame | undefined {
    return this.#entries.get(clientMsgId)?.frame;
  }

  /** Counts one more `unavailable` answer to a send still waiting; returns the count (0 if not waiting). */
  noteUnavailable(clientMsgId: string): number {
    const entry = this.#entries.get(clientMsgId);
    if (!entry) return 0;
    entry.unavailable += 1;
    return entry.unavailable;
  }

  has(clientMsgId: string): boolean {
    return this.#entries.has(clientMsgId);
  }

  get size(): number {
    return this.#entries.size;
  }

  resolve(ack: AckFrame): boolean {
    const entry = this.#entries.get(ack.clientMsgId);
    if (!entry) return false;
    this.#entries.delete(ack.clientMsgId);
    entry.resolve(ack);
    return true;
  }

  reject(clientMsgId: string, error: ChatClientError): boolean {
    const entry = this.#entries.get(clientMsgId);
    if (!entry) return false;
    this.#entries.delete(clientMsgId);
    entry.reject(error);
    return true;
  }

  rejectAll(error: (clientMsgId: string) => ChatClientError): string[] {
    const ids = [...this.#entries.keys()];
    for (const id of ids) this.reject(id, error(id));
    return ids;
  }
}
