import { readyz } from './chat-services.ts';

interface Sample {
  at: number;
  ready: boolean;
}

/** Polls every service's /readyz in the background and keeps the answers, to judge a fault window afterwards. */
export class ReadinessWatch {
  readonly #targets: ReadonlyMap<string, string>;
  readonly #samples = new Map<string, Sample[]>();
  #running = false;
  #loop: Promise<void> = Promise.resolve();

  /** `targets`: service name → base URL. */
  readonly intervalMs: number;

  constructor(targets: ReadonlyMap<string, string>, intervalMs = 200) {
    this.#targets = targets;
    this.intervalMs = intervalMs;
    for (const name of targets.keys()) this.#samples.set(name, []);
  }

  start(): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        const started = performance.now();
        await Promise.all([...this.#targets].map(async ([name, url]) => this.#samples.get(name)?.push({ at: performance.now(), ready: await readyz(url, 1_500) })));
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, this.intervalMs - (performance.now() - started))));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** Whether every service's latest answer was ready and came after `since`. */
  allReady(since = 0): boolean {
    return [...this.#samples.values()].every((samples) => {
      const last = samples.at(-1);
      return last !== undefined && last.at >= since && last.ready;
    });
  }

  /** Services that answered not ready (or not at all) at least once within [from, to]. */
  unreadyWithin(from: number, to: number): string[] {
    return [...this.#samples].filter(([, samples]) => samples.some((s) => s.at >= from && s.at <= to && !s.ready)).map(([name]) => name);
  }

  /** Drops samples older than `before`, so a long soak does not keep them all. */
  forget(before: number): void {
    for (const [name, samples] of this.#samples) this.#samples.set(name, samples.filter((s) => s.at >= before));
  }
}
