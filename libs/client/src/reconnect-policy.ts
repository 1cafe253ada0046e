import { ExponentialBackoff, fullJitterGenerator, type IBackoff } from 'cockatiel';

export interface BackoffOptions {
  /** Upper bound of the first delay; each later bound doubles. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface ReconnectStep {
  attempt: number;
  delayMs: number;
}

/** Exponential backoff with full jitter: each delay is uniform in [0, min(max, initial * 2^n)). */
export class ReconnectPolicy {
  readonly #factory: ExponentialBackoff<number>;
  #current: IBackoff<unknown> | undefined;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#factory = new ExponentialBackoff({
      generator: fullJitterGenerator,
      initialDelay: options.initialDelayMs ?? 500,
      maxDelay: options.maxDelayMs ?? 30_000,
    });
  }

  next(): ReconnectStep {
    this.#current = this.#current === undefined ? this.#factory.next() : this.#current.next(undefined);
    this.#attempt += 1;
    return { attempt: this.#attempt, delayMs: this.#current.duration };
  }

  reset(): void {
    this.#current = undefined;
    this.#attempt = 0;
  }
}
