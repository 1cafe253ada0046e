import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleHealthRoutes, sendJson, type MetricsHandler, type Readiness } from '@chat/service-kit';

export interface HealthServerOptions {
  host: string;
  port: number;
  readiness: Readiness;
  metrics?: MetricsHandler;
}

/** /healthz, /readyz and /metrics on PERSISTER_PORT; the persister serves nothing else. */
export class HealthServer {
  readonly name = 'health-server';
  readonly #server: Server;
  readonly #options: HealthServerOptions;

  constructor(options: HealthServerOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => {
      if (!handleHealthRoutes(req, res, options.readiness, options.metrics)) sendJson(res, 404, { error: { code: 'not_found', message: 'Not found.' } });
    });
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
