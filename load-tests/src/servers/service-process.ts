import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';

export class ServiceStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceStartError';
  }
}

export interface ServiceSpec {
  name: string;
  /** Script run by the same Node binary, relative to cwd. */
  script: string;
  cwd: string;
  env: Record<string, string>;
  readyUrl: string;
  logFile: string;
  readyTimeoutMs?: number;
}

/** A server process started for the benchmark, with its log in a file. */
export class ServiceProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  #exited = false;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    child.once('exit', () => {
      this.#exited = true;
    });
  }

  static async start(spec: ServiceSpec): Promise<ServiceProcess> {
    const log = createWriteStream(spec.logFile);
    // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") passes flags to every server started.
    const nodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
    const child = spawn(process.execPath, [...nodeArgs, spec.script], {
      cwd: spec.cwd,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const service = new ServiceProcess(spec.name, child);
    await service.#waitReady(spec.readyUrl, spec.readyTimeoutMs ?? 30_000, spec.logFile);
    return service;
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get running(): boolean {
    return !this.#exited;
  }

  async #waitReady(url: string, timeoutMs: number, logFile: string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let last = 'no answer';
    while (performance.now() < deadline) {
      if (this.#exited) throw new ServiceStartError(`${this.name} exited during start-up (exit ${this.#child.exitCode}); see ${logFile}`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return;
        last = `HTTP ${response.status}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.stop();
    throw new ServiceStartError(`${this.name} was not ready at ${url} within ${timeoutMs} ms (${last}); see ${logFile}`);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#exited) {
        resolve();
        return;
      }
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 8000);
      this.#child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#child.kill('SIGTERM');
    });
  }
}

/** A port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
