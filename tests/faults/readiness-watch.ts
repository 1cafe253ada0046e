import { readyzAnswer } from './chat-services.ts';

interface Sample {
  at: number;
  ready: boolean;
  /** Why it was not ready: the failing checks, or no answer in time. */
  why?: string;
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
        await Promise.all([...this.#targets].map(async ([name, url]) => this.#samples.get(name)?.push({ at: performance.now(), ...(await readyzAnswer(url, 1_500)) })));
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

  /** Why each service named by unreadyWithin was not ready within [from, to]: its distinct reasons. */
  unreadyReasons(from: number, to: number): string[] {
    return [...this.#samples].flatMap(([name, samples]) => {
      const reasons = new Set(samples.filter((s) => s.at >= from && s.at <= to && !s.ready).map((s) => s.why ?? 'not ready'));
      return reasons.size === 0 ? [] : [`${name} (${[...reasons].join('; ')})`];
    });
  }

  /** Drops samples older than `before`, so a long soak does not keep them all. */
  forget(before: number): void {
    for (const [name, samples] of this.#samples) this.#samples.set(name, samples.filter((s) => s.at >= before));
  }
}
