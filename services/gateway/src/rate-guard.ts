export type RateVerdict = 'ok' | 'limited' | 'exceeded';

/**
 * A token bucket that starts full and refills continuously from performance.now(). A few numbers,
 * since every connection holds three of them.
 */
class Bucket {
  readonly #size: number;
  readonly #perMs: number;
  #content: number;
  #last = performance.now();

  constructor(size: number, perSecond: number) {
    this.#size = size;
    this.#perMs = perSecond / 1000;
    // A new connection gets its whole burst.
    this.#content = size;
  }

  take(): boolean {
    if (this.#size < 1) return false;
    const now = performance.now();
    this.#content = Math.min(this.#size, this.#content + Math.max(now - this.#last, 0) * this.#perMs);
    this.#last = now;
    if (this.#content < 1) return false;
    this.#content -= 1;
    return true;
  }
}

/**
 * Per-connection token bucket (refill ratePerSec, capacity burst). Refused frames draw on a second
 * bucket of the same shape, so a client that keeps pushing well past the limit (refusals faster
 * than the refill) is told to go ('exceeded'), while one that merely touches it is not.
 */
export class RateGuard {
  readonly #frames: Bucket;
  readonly #strikes: Bucket;

  constructor(options: { ratePerSec: number; burst: number }) {
    this.#frames = new Bucket(options.burst, options.ratePerSec);
    this.#strikes = new Bucket(options.burst, options.ratePerSec);
  }

  take(): RateVerdict {
    if (this.#frames.take()) return 'ok';
    return this.strike();
  }

  /** A frame refused by another limit (the user's shared budget) counts against this connection too. */
  strike(): Exclude<RateVerdict, 'ok'> {
    return this.#strikes.take() ? 'limited' : 'exceeded';
  }
}

/**
 * Malformed frames a connection may send: a burst, refilled at one a second. A client with a
 * bug now and then keeps its socket; one that keeps sending garbage is closed.
 */
export class InvalidFrameBudget {
  readonly #bucket: Bucket;

  constructor(burst: number) {
    this.#bucket = new Bucket(burst, 1);
  }

  /** False once the budget is spent. */
  spend(): boolean {
    return this.#bucket.take();
  }
}
