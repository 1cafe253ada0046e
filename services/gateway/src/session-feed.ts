import type { ChatMessage } from '@chat/protocol';
import type { GatewayLogger } from './gateway-logger.ts';

export interface FeedTiming {
  /** How long a gap may stay open before the missing messages are read from live state. */
  gapFillMs: number;
  /** How long a gap may stay open before the missing seq is given up on. */
  gapSkipMs: number;
}

export interface SessionFeedOptions extends FeedTiming {
  sessionId: string;
  /** Recent committed messages with seq > afterSeq (live state). */
  fetchRecent(afterSeq: number): Promise<ChatMessage[]>;
  /** Receives each message once, in seq order from the start on; `frame` is the serialized message. */
  release(seq: number, frame: Buffer): void;
  logger: GatewayLogger;
}

/**
 * Puts one session's live messages back into seq order. Two replicas can publish N and N+1 in
 * either order, so N+1 waits here until N arrives, is read from live state, or is given up on
 * (a message whose fan-out was lost and never retried) after gapSkipMs.
 */
export class SessionFeed {
  readonly #options: SessionFeedOptions;
  /** The highest seq released; undefined until the starting point is known. */
  #released: number | undefined;
  readonly #waiting = new Map<number, Buffer>();
  /** A head seen in live state: seqs up to it exist even if none of them reached the bus. */
  #expected = 0;
  #gapSince: number | undefined;
  #fillTimer: NodeJS.Timeout | undefined;
  #skipTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: SessionFeedOptions) {
    this.#options = options;
  }

  get released(): number | undefined {
    return this.#released;
  }

  /** Sets where ordering starts (the head read after subscribing); anything held so far is sorted out. */
  start(head: number): void {
    if (this.#released !== undefined) return;
    this.#released = head;
    // Held before the start was known, yet not newer than it: pass them on, in order.
    for (const seq of [...this.#waiting.keys()].filter((s) => s <= head).sort((a, b) => a - b)) {
      const frame = this.#waiting.get(seq);
      this.#waiting.delete(seq);
      if (frame) this.#options.release(seq, frame);
    }
    this.#drain();
  }

  push(seq: number, frame: Buffer): void {
    if (this.#stopped) return;
    const released = this.#released;
    if (released !== undefined && seq <= released) {
      // Older than the feed: allocated before this replica subscribed, or a duplicate. Each
      // connection drops what it already has, so passing it on is safe and may fill a catch-up.
      if (!this.#waiting.has(seq)) this.#options.release(seq, frame);
      return;
    }
    this.#waiting.set(seq, frame);
    if (released !== undefined) this.#drain();
  }

  /**
   * Tells the feed that live state has allocated up to `head`. Messages whose fan-out was lost
   * with nothing after them (the bus was reconnecting) open a gap too, filled like any other.
   */
  expect(head: number): void {
    if (this.#stopped || this.#released === undefined || head <= this.#released) return;
    this.#expected = Math.max(this.#expected, head);
    this.#gapOpen();
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimers();
    this.#waiting.clear();
  }

  #drain(): void {
    let released = this.#released;
    if (released === undefined) return;
    for (let frame = this.#waiting.get(released + 1); frame !== undefined; frame = this.#waiting.get(released + 1)) {
      released += 1;
      this.#waiting.delete(released);
      this.#released = released;
      this.#options.release(released, frame);
    }
    if (this.#waiting.size === 0 && released >= this.#expected) this.#gapClosed();
    else this.#gapOpen();
  }

  #gapOpen(): void {
    if (this.#gapSince !== undefined) return;
    this.#gapSince = Date.now();
    this.#fillTimer = setTimeout(() => void this.#fill(), this.#options.gapFillMs);
    this.#skipTimer = setTimeout(() => this.#skip(), this.#options.gapSkipMs);
  }

  #gapClosed(): void {
    this.#gapSince = undefined;
    this.#clearTimers();
  }

  #clearTimers(): void {
    clearTimeout(this.#fillTimer);
    clearTimeout(this.#skipTimer);
    this.#fillTimer = undefined;
    this.#skipTimer = undefined;
  }

  async #fill(): Promise<void> {
    this.#fillTimer = undefined;
    const released = this.#released;
    if (released === undefined || this.#stopped) return;
    try {
      const messages = await this.#options.fetchRecent(released);
      for (const message of messages) {
        // Only what is still missing: anything at or below the released mark has gone out already.
        if (message.seq > (this.#released ?? 0) && !this.#waiting.has(message.seq)) this.push(message.seq, Buffer.from(JSON.stringify(message)));
      }
    } catch (error) {
      this.#options.logger.warn({ err: error, sessionId: this.#options.sessionId }, 'could not read recent messages to fill a gap');
    }
    // Still open (stop() clears the skip timer): try again, until the skip bound ends the wait.
    if (this.#gapSince !== undefined && this.#skipTimer !== undefined) {
      this.#fillTimer = setTimeout(() => void this.#fill(), this.#options.gapFillMs);
    }
  }

  #skip(): void {
    this.#skipTimer = undefined;
    clearTimeout(this.#fillTimer);
    this.#fillTimer = undefined;
    this.#gapSince = undefined;
    const released = this.#released;
    if (released === undefined || this.#stopped) return;
    // With nothing held, the gap is at the tail: give up on everything up to the expected head.
    const next = this.#waiting.size === 0 ? this.#expected + 1 : Math.min(...this.#waiting.keys());
    if (next <= released + 1) return;
    this.#options.logger.warn({ sessionId: this.#options.sessionId, missing: { from: released + 1, to: next - 1 } }, 'gave up waiting for missing messages');
    this.#released = next - 1;
    this.#drain();
  }
}
