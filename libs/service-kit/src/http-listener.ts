import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { Part } from './lifecycle.ts';

export interface HttpListenerOptions {
  /** The part's name in lifecycle logs. */
  name: string;
  host: string;
  /** 0 lets the OS choose; `port` tells which it chose once listening. */
  port: number;
  handler: RequestListener;
  server?: ServerOptions;
}

/**
 * One plain node:http server as a lifecycle part: listen, the bound port, close.
 * Closing drops open connections at once; a service that must let requests finish drains first.
 */
export class HttpListener implements Part {
  readonly name: string;
  readonly #server: Server;
  readonly #host: string;
  readonly #port: number;

  constructor(options: HttpListenerOptions) {
    this.name = options.name;
    this.#host = options.host;
    this.#port = options.port;
    this.#server = createServer(options.server ?? {}, options.handler);
  }

  /** The bound port; throws before listen() has finished. */
  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error(`${this.name} is not listening on a TCP port`);
    return address.port;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /** Also after a failed or no listen(): close() then releases the server's timers, and its error is moot. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  start(): Promise<void> {
    return this.listen();
  }

  stop(): Promise<void> {
    return this.close();
  }
}
