export type Check = (signal: AbortSignal) => Promise<unknown>;

export interface CheckResult {
  ok: boolean;
  durationMs: number;
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  draining: boolean;
  checks: Record<string, CheckResult>;
}

export class CheckTimeoutError extends Error {
  override readonly name = 'CheckTimeoutError';
  readonly check: string;
  constructor(check: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`check ${check} did not answer within ${timeoutMs} ms`, options);
    this.check = check;
  }
}

/**
 * Named dependency checks for a `/readyz` endpoint. Each runs with a timeout; the service is
 * ready when all pass and it is not draining (so a load balancer stops sending traffic first).
 */
export class ReadinessChecks {
  readonly #checks = new Map<string, Check>();
  readonly #timeoutMs: number;
  #draining = false;

  constructor(options: { timeoutMs?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? 2000;
  }

  add(name: string, check: Check): this {
    this.#checks.set(name, check);
    return this;
  }

  /** From now on the service reports not ready; called first on shutdown. */
  startDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  async run(): Promise<ReadinessReport> {
    const entries = await Promise.all([...this.#checks].map(async ([name, check]) => [name, await this.#runOne(name, check)] as const));
    const checks = Object.fromEntries(entries);
    const ready = !this.#draining && entries.every(([, result]) => result.ok);
    return { ready, draining: this.#draining, checks };
  }

  async #runOne(name: string, check: Check): Promise<CheckResult> {
    const started = performance.now();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new CheckTimeoutError(name, this.#timeoutMs));
      }, this.#timeoutMs);
    });
    try {
      await Promise.race([check(controller.signal), timeout]);
      return { ok: true, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      return { ok: false, durationMs: Math.round(performance.now() - started), error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}
