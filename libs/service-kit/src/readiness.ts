export type Check = () => Promise<unknown>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

/**
 * A service is ready when every named dependency answers within the timeout and it is not
 * draining. Checks run on demand, so /readyz reflects the dependency at the moment of asking.
 * A check that fails is asked again at once, and the dependency counts as failing only when
 * `probes` answers in a row fail: on a loaded machine one PING can miss a tight timeout while
 * the next one is answered, whereas a dependency that is down or cut fails every one.
 */
export class Readiness {
  readonly #checks = new Map<string, Check>();
  readonly #timeoutMs: number;
  readonly #probes: number;
  #draining = false;

  /** `timeoutMs` bounds each answer (1 s); `probes` is how many failed answers in a row make a check fail (2). */
  constructor(options: { timeoutMs?: number; probes?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#probes = Math.max(1, Math.floor(options.probes ?? 2));
  }

  add(name: string, check: Check): this {
    this.#checks.set(name, check);
    return this;
  }

  /** From now on the service reports not ready, so load balancers stop sending it traffic. */
  drain(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]): Promise<[string, { ok: boolean; error?: string }]> => {
        // An answer that comes late still counts while the next probe waits: it was only slow.
        const asked: Promise<unknown>[] = [];
        let error: unknown;
        for (let probe = 0; probe < this.#probes; probe++) {
          asked.push(Promise.resolve().then(check));
          try {
            await withTimeout(Promise.any(asked), this.#timeoutMs);
            return [name, { ok: true }];
          } catch (failure) {
            error = failure instanceof AggregateError ? failure.errors.at(-1) : failure;
          }
        }
        return [name, { ok: false, error: error instanceof Error ? error.message : String(error) }];
      }),
    );
    const checks: ReadinessReport['checks'] = Object.fromEntries(entries);
    const ready = !this.#draining && entries.every(([, result]) => result.ok);
    return { ready, checks: this.#draining ? { ...checks, draining: { ok: false } } : checks };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
