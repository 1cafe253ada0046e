import type { ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { waitFor } from './wait.ts';

/** Neither exited nor ended by a signal: a child killed by a signal keeps exitCode null, signalCode says it is gone. */
export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Sends `signal` (SIGKILL by default, as a crash) and resolves with the exit code once the child has
 * exited; with `graceMs`, SIGKILL follows when it is still running by then. A child already gone
 * resolves at once.
 */
export async function stopChild(child: ChildProcess, options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<number | null> {
  if (!isRunning(child)) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(options.signal ?? 'SIGKILL');
  const force = options.graceMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.graceMs);
  const code = await exited;
  clearTimeout(force);
  return code;
}

/** Until something accepts a TCP connection on 127.0.0.1:`port`; past `timeoutMs` it throws, naming `what`. */
export function waitForPort(port: number, what: string, timeoutMs = 10_000): Promise<void> {
  return waitFor(`${what} to listen on port ${String(port)}`, () => accepts(port), timeoutMs);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
