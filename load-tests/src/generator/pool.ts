import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command, Envelope, ReplyEnvelope, ReplyFor } from './protocol.ts';

const WORKER_PATH = fileURLToPath(new URL('./worker.ts', import.meta.url));

export class WorkerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorkerError';
  }
}

interface Pending {
  resolve: (reply: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** One load-generator process, spoken to by request and reply over IPC. */
export class WorkerHandle {
  readonly index: number;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;

  constructor(index: number) {
    this.index = index;
    // execArgv is cleared so a test runner's flags do not leak into the generator.
    this.#child = fork(WORKER_PATH, [], { execArgv: ['--max-old-space-size=4096'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (message: ReplyEnvelope) => {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message.reply);
      else pending.reject(new WorkerError(`load generator ${this.index}: ${message.error}`));
    });
    this.#child.on('exit', (code) => {
      for (const [id, pending] of this.#pending) {
        clearTimeout(pending.timer);
        pending.reject(new WorkerError(`load generator ${this.index} exited with ${code}`));
        this.#pending.delete(id);
      }
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  request<C extends Command>(command: C, timeoutMs: number): Promise<ReplyFor[C['kind']]> {
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new WorkerError(`load generator ${this.index} did not answer ${command.kind} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (reply: unknown) => void, reject, timer });
      const envelope: Envelope = { id, command };
      this.#child.send(envelope);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
        resolve();
        return;
      }
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
      this.#child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#child.disconnect();
    });
  }
}

export class WorkerPool {
  readonly workers: WorkerHandle[];

  constructor(size: number) {
    this.workers = Array.from({ length: size }, (_, i) => new WorkerHandle(i));
  }

  /** Sends each worker its own command and waits for all replies. */
  all<C extends Command>(commandFor: (worker: WorkerHandle) => C, timeoutMs: number): Promise<ReplyFor[C['kind']][]> {
    return Promise.all(this.workers.map((worker) => worker.request(commandFor(worker), timeoutMs)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }
}
