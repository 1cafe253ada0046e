import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, type TokenVerifier } from '@chat/auth';
import { ChatError, ERROR_CODES } from '@chat/protocol';
import { healthHandler, HttpListener, sendJson, type Readiness } from '@chat/service-kit';
import type { DeadLetterStore } from './dead-letters.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

export const DEAD_LETTERS_PATH = '/api/webhooks/dead-letters';
const MAX_LIST = 500;

export interface WebhooksServerOptions {
  host: string;
  port: number;
  readiness: Readiness;
  metrics: WebhookMetrics;
  deadLetters: DeadLetterStore;
  verifier: TokenVerifier;
}

/** /healthz, /readyz, /metrics and the dead-letter list (admins only) on WEBHOOK_PORT. */
export class WebhooksServer {
  readonly name = 'webhooks-server';
  readonly #listener: HttpListener;
  readonly #options: WebhooksServerOptions;

  constructor(options: WebhooksServerOptions) {
    this.#options = options;
    const metrics = (_: IncomingMessage, out: ServerResponse) => {
      out.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      out.end(options.metrics.text());
    };
    const handler = healthHandler({ readiness: options.readiness, metrics, otherwise: (req, res) => void this.#route(req, res) });
    this.#listener = new HttpListener({ name: this.name, host: options.host, port: options.port, handler });
  }

  get port(): number {
    return this.#listener.port;
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname !== DEAD_LETTERS_PATH) throw new ChatError('route_not_found');
      if (req.method !== 'GET') throw new ChatError('route_not_found');
      const caller = await this.#options.verifier(bearerToken(req.headers.authorization));
      if (!caller.admin) throw new ChatError('forbidden', 'Only an admin may read dead letters.');
      const limit = Number(url.searchParams.get('limit') ?? '100');
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) throw new ChatError('invalid_input', `limit must be 1..${MAX_LIST}`);
      const endpointId = url.searchParams.get('endpoint') ?? undefined;
      const letters = await this.#options.deadLetters.list({ limit, ...(endpointId === undefined ? {} : { endpointId }) }).catch((cause: unknown) => {
        throw new ChatError('unavailable', 'The dead-letter stream is unavailable; try again.', { cause });
      });
      sendJson(res, 200, { deadLetters: letters });
    } catch (error) {
      const chatError = error instanceof ChatError ? error : new ChatError('internal');
      sendJson(res, ERROR_CODES[chatError.code].status, { error: { code: chatError.code, message: chatError.message } });
    }
  }

  start(): Promise<void> {
    return this.#listener.listen();
  }

  stop(): Promise<void> {
    return this.#listener.close();
  }
}
