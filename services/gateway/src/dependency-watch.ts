import type { Readiness } from '@chat/service-kit';

export interface DependencyWatchOptions {
  readiness: Readiness;
  /** How long the dependencies must stay unanswered before the replica gives up its clients. */
  shedAfterMs: number;
  /** Called once when an outage passes `shedAfterMs`. */
  onCut: () => void;
  now?: () => number;
}

/**
 * Tells a replica that lost its own link to Redis or NATS for longer than a blip. Such a replica
 * cannot serve its clients while another one may: it hands them over (closes them with 1001 and a
 * reconnect hint) and refuses new ones until its dependencies answer again.
 */
export class DependencyWatch {
  readonly #options: DependencyWatchOptions;
  #unansweredSince: number | undefined;
  #cut = false;
  #checking = false;

  constructor(options: DependencyWatchOptions) {
    this.#options = options;
  }

  /** True from the moment an outage passed the limit until the dependencies answer again. */
  get cut(): boolean {
    return this.#cut;
  }

  /** One look at the dependencies; a look still running is not doubled. */
  async check(): Promise<void> {
    if (this.#checking || this.#options.readiness.draining) return;
    this.#checking = true;
    try {
      const report = await this.#options.readiness.report();
      const now = (this.#options.now ?? Date.now)();
      if (report.ready) {
        this.#unansweredSince = undefined;
        this.#cut = false;
        return;
      }
      this.#unansweredSince ??= now;
      if (!this.#cut && now - this.#unansweredSince >= this.#options.shedAfterMs) {
        this.#cut = true;
        this.#options.onCut();
      }
    } finally {
      this.#checking = false;
    }
  }
}
