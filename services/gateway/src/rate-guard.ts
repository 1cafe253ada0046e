import { TokenBucket } from 'limiter';

export type RateVerdict = 'ok' | 'limited' | 'exceeded';

/**
 * Per-connection token bucket (refill ratePerSec, capacity burst). Refused frames draw on a second
 * bucket of the same shape, so a client that keeps pushing well past the limit (refusals faster
 * than the refill) is told to go ('exceeded'), while one that merely touches it is not.
 */
export class RateGuard {
  readonly #frames: TokenBucket;
  readonly #strikes: TokenBucket;

  constructor(options: { ratePerSec: number; burst: number }) {
    this.#frames = fullBucket(options.burst, options.ratePerSec);
    this.#strikes = fullBucket(options.burst, options.ratePerSec);
  }

  take(): RateVerdict {
    if (this.#frames.tryRemoveTokens(1)) return 'ok';
    return this.strike();
  }

  /** A frame refused by another limit (the user's shared budget) counts against this connection too. */
  strike(): Exclude<RateVerdict, 'ok'> {
    return this.#strikes.tryRemoveTokens(1) ? 'limited' : 'exceeded';
  }
}

/**
 * Malformed frames a connection may send: a burst, refilled at one a second. A client with a
 * bug now and then keeps its socket; one that keeps sending garbage is closed.
 */
export class InvalidFrameBudget {
  readonly #bucket: TokenBucket;

  constructor(burst: number) {
    this.#bucket = fullBucket(burst, 1);
  }

  /** False once the budget is spent. */
  spend(): boolean {
    return this.#bucket.tryRemoveTokens(1);
  }
}

function fullBucket(size: number, perSecond: number): TokenBucket {
  const bucket = new TokenBucket({ bucketSize: size, tokensPerInterval: perSecond, interval: 'second' });
  // The library starts a bucket empty; a new connection gets its whole burst.
  bucket.content = size;
  return bucket;
}
