import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';

export class ServiceStartError extends Error {
  /** The service exited because its port was taken (EADDRINUSE in its output). */
  readonly portTaken: boolean;

  constructor(message: string, options?: { cause?: unknown; portTaken?: boolean }) {
    super(message, options);
    this.name = 'ServiceStartError';
    this.portTaken = options?.portTaken ?? false;
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
  /** The end of what the process wrote, to tell why it exited during start-up. */
  #outputTail = '';

  /** Settles once the process has exited and its output is read to the end. */
  readonly #closed: Promise<void>;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    this.#closed = new Promise((resolve) => child.once('close', () => resolve()));
    child.once('exit', () => {
      this.#exited = true;
    });
  }

  static async start(spec: ServiceSpec): Promise<ServiceProcess> {
    // Appended: the same server name comes back in several scenarios and series of one run.
    const log = createWriteStream(spec.logFile, { flags: 'a' });
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
    const keepTail = (chunk: Buffer) => {
      service.#outputTail = (service.#outputTail + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keepTail);
    child.stderr.on('data', keepTail);
    // Start-up is not what a run measures: on a busy machine loading the modules alone can take a minute.
    await service.#waitReady(spec.readyUrl, spec.readyTimeoutMs ?? 120_000, spec.logFile);
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
      if (this.#exited) {
        // 'exit' can come before the last of the output: read it all before looking for the reason.
        await this.#closed;
        const portTaken = /EADDRINUSE|address already in use/i.test(this.#outputTail);
        throw new ServiceStartError(`${this.name} exited during start-up (exit ${this.#child.exitCode})${portTaken ? ', its port was taken' : ''}; see ${logFile}`, { portTaken });
      }
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

/**
 * Starts a service on a port the OS reported free, and again on another one when something took the
 * port between the check and the service's bind (the port has to be released for the service to bind it).
 */
export async function startOnFreePort(spec: (port: number) => ServiceSpec | Promise<ServiceSpec>, attempts = 5): Promise<{ port: number; service: ServiceProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await candidatePort();
    try {
      return { port, service: await ServiceProcess.start(await spec(port)) };
    } catch (error) {
      if (attempt >= attempts || !(error instanceof ServiceStartError) || !error.portTaken) throw error;
    }
  }
}

/**
 * A port free right now; released again before it is returned. BENCH_PORTS ("39000-39999") keeps
 * every server the run starts inside a range, on a machine where others own the rest; without it
 * the OS picks one.
 */
export async function candidatePort(): Promise<number> {
  const range = /^(\d+)-(\d+)$/.exec(process.env['BENCH_PORTS'] ?? '');
  if (!range) return bindAndRelease(0);
  const low = Number(range[1]);
  const high = Number(range[2]);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    const free = await bindAndRelease(port).then(
      () => true,
      () => false,
    );
    if (free) return port;
  }
  throw new Error(`no free port in BENCH_PORTS ${low}-${high} after 50 tries`);
}

function bindAndRelease(wanted: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(wanted, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
