export type Check = () => Promise<unknown>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

/**
 * A service is ready when every named dependency answers within the timeout and it is not
 * draining. Checks run on demand, so /readyz reflects the dependency at the moment of asking.
 */
export class Readiness {
  readonly #checks = new Map<string, Check>();
  readonly #timeoutMs: number;
  #draining = false;

  constructor(options: { timeoutMs?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? 1000;
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
        try {
          await withTimeout(check(), this.#timeoutMs);
          return [name, { ok: true }];
        } catch (error) {
          return [name, { ok: false, error: error instanceof Error ? error.message : String(error) }];
        }
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
