import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { isRunning, stopChild } from './child-process.ts';

const root = join(import.meta.dirname, '..', '..');

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote so far (JSON log lines). */
  output(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Runs a service's main.ts as its own process, as production does, and resolves once a log line
 * matches `ready` (the line is given to `ready`, which returns a value such as the bound port).
 */
export function startServiceProcess<T>(
  service: 'session-api' | 'persister' | 'gateway',
  env: Record<string, string>,
  ready: (line: Record<string, unknown>) => T | undefined,
  timeoutMs = 60_000,
): Promise<{ process: ServiceProcess; ready: T }> {
  const main = join(root, 'services', service, 'src', 'main.ts');
  const child = spawn(process.execPath, [main], { cwd: root, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let pending = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const handle: ServiceProcess = {
    child,
    output: () => output,
    alive: () => isRunning(child),
    stop: (graceMs = 5_000) => stopChild(child, { signal: 'SIGTERM', graceMs }),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${service} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue;
        }
        if (typeof parsed !== 'object' || parsed === null) continue;
        const value = ready(parsed as Record<string, unknown>);
        if (value !== undefined) {
          clearTimeout(timer);
          resolve({ process: handle, ready: value });
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${service} exited with ${code} before it was ready:\n${output}`));
    });
  });
}
