import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { isRunning } from './child-process.ts';
import type { ProxyCommand, ProxyReply } from './tcp-proxy-child.ts';

/**
 * The TcpProxy API (start, cut, hold, release, stop) with the proxy running in a child process:
 * a test process that drives hundreds of clients would otherwise starve the proxied link of CPU,
 * and the dependency behind it would look slow when only the test is.
 */
export class TcpProxyProcess {
  readonly #target: { host: string; port: number };
  #port: number;
  #child: ChildProcess | undefined;
  #next = 0;
  readonly #pending = new Map<number, { resolve: (reply: ProxyReply) => void; reject: (error: Error) => void }>();

  /** `listenPort`: a fixed port to listen on; a free one is picked when omitted. */
  constructor(target: { host: string; port: number }, listenPort = 0) {
    this.#target = target;
    this.#port = listenPort;
  }

  get port(): number {
    return this.#port;
  }

  /** Listens on a free port the first time, on the same port afterwards. */
  async start(): Promise<void> {
    await this.#request({ op: 'start' });
  }

  /** As TcpProxy.hold: open connections stop forwarding but stay open. */
  async hold(): Promise<void> {
    await this.#request({ op: 'hold' });
  }

  async release(): Promise<void> {
    await this.#request({ op: 'release' });
  }

  /** Drops every open connection; with `stopListening` new ones are refused as well. */
  async cut(options: { stopListening: boolean }): Promise<void> {
    await this.#request({ op: 'cut', stopListening: options.stopListening });
  }

  /** Drops every connection, stops listening and ends the child process. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    try {
      await this.cut({ stopListening: true });
    } finally {
      this.#child = undefined;
      if (isRunning(child)) {
        const exited = once(child, 'exit');
        if (child.connected) child.disconnect();
        await exited;
      }
    }
  }

  #spawn(): ChildProcess {
    const child = fork(join(import.meta.dirname, 'tcp-proxy-child.ts'), [this.#target.host, String(this.#target.port), String(this.#port)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (reply: ProxyReply) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.ok) pending?.resolve(reply);
      else pending?.reject(new Error(`tcp proxy: ${reply.error}`));
    });
    child.on('exit', (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      for (const pending of this.#pending.values()) pending.reject(new Error(`tcp proxy process exited (${signal ?? code}) before answering`));
      this.#pending.clear();
    });
    return child;
  }

  async #request(command: ProxyCommand): Promise<void> {
    this.#child ??= this.#spawn();
    const child = this.#child;
    const id = ++this.#next;
    const reply = await new Promise<ProxyReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      child.send({ id, command });
    });
    if (reply.port !== undefined) this.#port = reply.port;
  }
}
