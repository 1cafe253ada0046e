import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stopChild, waitForPort } from './child-process.ts';

/**
 * A redis-server of the test's own on a port of its own, for tests that stop Redis or delete
 * keys in bulk: those must never touch the shared server other suites use.
 */
export class OwnRedis {
  readonly port: number;
  #child: ChildProcess | undefined;

  constructor(port: number) {
    this.port = port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#child = spawn(OwnRedis.binary(), ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitForPort(this.port, 'redis-server');
  }

  async stop(): Promise<void> {
    if (this.#child) await stopChild(this.#child);
    this.#child = undefined;
  }

  static binary(): string {
    return ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path)) ?? 'redis-server';
  }
}
