import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Part, Readiness } from '@chat/service-kit';
import type { Logger } from '@chat/telemetry';
import { answerClientError } from './client-error-response.ts';

export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;

export interface ApiServerOptions {
  handler: RequestListener;
  host: string;
  port: number;
  readiness: Readiness;
  /** How long requests in flight may take to finish once stopping begins. */
  graceMs: number;
  logger: Logger;
  /** Defaults HEADERS_TIMEOUT_MS and REQUEST_TIMEOUT_MS; a client slower than these gets 408. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** The HTTP listener as a lifecycle part: on stop it turns not-ready, lets requests in flight finish, then closes. */
export class ApiServer implements Part {
  readonly name = 'http';
  readonly #options: ApiServerOptions;
  readonly #server: Server;
  #port = 0;

  constructor(options: ApiServerOptions) {
    this.#options = options;
    // A client gets a few seconds to send its headers and its whole request; Node checks every second.
    this.#server = createServer(
      {
        keepAliveTimeout: 5_000,
        headersTimeout: options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS,
        requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
        connectionsCheckingInterval: 1_000,
      },
      options.handler,
    );
    this.#server.on('clientError', answerClientError);
  }

  /** The bound port (useful with port 0), once started. */
  get port(): number {
    return this.#port;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        this.#options.logger.info({ host: this.#options.host, port: this.port }, 'listening');
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.#options.readiness.drain();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // Idle keep-alive sockets would otherwise hold close() open until they time out.
    this.#server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#options.graceMs);
    });
    await Promise.race([closed, grace]);
    clearTimeout(timer);
    this.#server.closeAllConnections();
    await closed;
  }
}
