export interface Part {
  readonly name: string;
  start(): Promise<void>;
  /** Stops accepting work, finishes or hands back what is in flight, then releases resources. */
  stop(): Promise<void>;
}

export interface LifecycleLogger {
  info(object: object, message: string): void;
  error(object: object, message: string): void;
}

/**
 * Starts parts in order and stops them in reverse, once, on SIGTERM/SIGINT or on request.
 * A second signal while stopping exits at once.
 */
export class Lifecycle {
  readonly #parts: Part[] = [];
  readonly #logger: LifecycleLogger;
  #started: Part[] = [];
  #stopping: Promise<void> | undefined;

  constructor(logger: LifecycleLogger) {
    this.#logger = logger;
  }

  add(part: Part): this {
    this.#parts.push(part);
    return this;
  }

  async start(): Promise<void> {
    for (const part of this.#parts) {
      await part.start();
      this.#started.push(part);
      this.#logger.info({ part: part.name }, 'started');
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  /** Wires SIGTERM and SIGINT to stop(), then exits with 0 (or 1 if a part failed to stop). */
  stopOnSignals(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.#stopping) process.exit(1);
      this.#logger.info({ signal }, 'shutting down');
      this.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  async #stopAll(): Promise<void> {
    let failed = false;
    for (const part of this.#started.reverse()) {
      try {
        await part.stop();
        this.#logger.info({ part: part.name }, 'stopped');
      } catch (error) {
        failed = true;
        this.#logger.error({ part: part.name, err: error }, 'failed to stop');
      }
    }
    this.#started = [];
    if (failed) throw new Error('one or more parts failed to stop');
  }
}
