import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, type WriteStream } from 'node:fs';

export interface ProcessSpec {
  name: string;
  command: string;
  args: readonly string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  logFile: string;
}

export class ProcessStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProcessStartError';
  }
}

/**
 * One server process the suite owns: started in its own process group so that a signal reaches
 * the server and every process it forked (PostgreSQL's backends), the way a crash or a freeze of
 * the machine's container would; restartable with the same arguments.
 */
export class ManagedProcess {
  readonly spec: ProcessSpec;
  #child: ChildProcess | undefined;
  #exit: Promise<void> = Promise.resolve();
  #log: WriteStream;
  #stopped = false;
  /** Set when the suite itself ends the process, so an exit is not taken for a crash. */
  #ending = false;
  #onCrash: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;

  constructor(spec: ProcessSpec) {
    this.spec = spec;
    this.#log = createWriteStream(spec.logFile, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get frozen(): boolean {
    return this.#stopped;
  }

  start(): void {
    if (this.running) throw new ProcessStartError(`${this.spec.name} is already running`);
    this.#log.write(`\n--- ${new Date().toISOString()} start ${this.spec.command} ${this.spec.args.join(' ')}\n`);
    const child = spawn(this.spec.command, [...this.spec.args], {
      cwd: this.spec.cwd,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(this.spec.uid === undefined ? {} : { uid: this.spec.uid }),
      ...(this.spec.gid === undefined ? {} : { gid: this.spec.gid }),
    });
    child.stdout.pipe(this.#log, { end: false });
    child.stderr.pipe(this.#log, { end: false });
    this.#ending = false;
    this.#exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.#ending) this.#onCrash?.(code, signal);
        resolve();
      }),
    );
    child.once('error', (error) => this.#log.write(`spawn error: ${error.message}\n`));
    this.#child = child;
    this.#stopped = false;
  }

  /** Called when the process exits without the suite having ended it. */
  onCrash(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.#onCrash = listener;
  }

  /** Sends a signal to the whole process group. */
  signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined || !this.running) return;
    if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') this.#ending = true;
    // PostgreSQL puts each backend in a session of its own, so the group alone does not reach them.
    for (const target of [-pid, ...descendantsOf(pid)]) {
      try {
        process.kill(target, signal);
      } catch {
        // Already gone.
      }
    }
    if (signal === 'SIGSTOP') this.#stopped = true;
    if (signal === 'SIGCONT') this.#stopped = false;
  }

  /** Resolves once the current process has exited. */
  exited(): Promise<void> {
    return this.#exit;
  }

  /** kill -9 of the whole group; resolves once the leader has exited. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.#exit;
  }

  /** A polite stop (SIGTERM, SIGKILL after `graceMs`). */
  async stop(graceMs = 8_000): Promise<void> {
    if (!this.running) return;
    if (this.#stopped) this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.#exit;
    clearTimeout(timer);
  }

  close(): void {
    this.#log.end();
  }
}

/** Every process below `pid`, from /proc (Linux). */
function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // Exited while we looked.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() ?? -1) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Polls `probe` until it resolves true, or throws after `timeoutMs` naming `what`. */
export async function waitFor(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 100): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (performance.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  const reason = last instanceof Error ? `: ${last.message}` : '';
  throw new ProcessStartError(`${what} did not happen within ${timeoutMs} ms${reason}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
