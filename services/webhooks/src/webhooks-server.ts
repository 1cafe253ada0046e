import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, type TokenVerifier } from '@chat/auth';
import { ChatError, ERROR_CODES } from '@chat/protocol';
import { healthHandler, HttpListener, sendJson, type Readiness } from '@chat/service-kit';
import type { DeadLetterStore } from './dead-letters.ts';
import { deliverOnce, type DeliveryOutcome } from './deliver-once.ts';
import type { WebhookEndpoint } from './webhook-endpoints.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

export const DEAD_LETTERS_PATH = '/api/webhooks/dead-letters';
/** `POST /api/webhooks/dead-letters/{seq}/replay`: one signed delivery of the dead letter now. */
const REPLAY_PATH = /^\/api\/webhooks\/dead-letters\/(\d{1,15})\/replay$/;
const MAX_LIST = 500;

export interface WebhooksServerOptions {
  host: string;
  port: number;
  readiness: Readiness;
  metrics: WebhookMetrics;
  deadLetters: DeadLetterStore;
  verifier: TokenVerifier;
  /** Where a replay goes: the endpoint the letter names, as configured now. */
  endpoints: readonly WebhookEndpoint[];
  deliver?: (endpoint: WebhookEndpoint, eventId: string, body: string) => Promise<DeliveryOutcome>;
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
      const replay = REPLAY_PATH.exec(url.pathname);
      if (replay && req.method === 'POST') {
        await this.#admin(req);
        sendJson(res, 200, await this.#replay(Number(replay[1])));
        return;
      }
      if (url.pathname !== DEAD_LETTERS_PATH) throw new ChatError('route_not_found');
      if (req.method !== 'GET') throw new ChatError('route_not_found');
      await this.#admin(req);
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

  async #admin(req: IncomingMessage): Promise<void> {
    const caller = await this.#options.verifier(bearerToken(req.headers.authorization));
    if (!caller.admin) throw new ChatError('forbidden', 'Only an admin may read or replay dead letters.');
  }

  /**
   * Delivers the dead letter's event once more, signed now, under its own event id (a receiver
   * that has it already drops it). Delivered: the letter is removed. Refused again: it stays, and
   * the answer says why (409), so the admin can fix the receiver and try again.
   */
  async #replay(seq: number): Promise<{ replayed: true; eventId: string; endpointId: string; status: number }> {
    const { deadLetters, endpoints, metrics } = this.#options;
    const unavailable = (cause: unknown) => {
      throw new ChatError('unavailable', 'The dead-letter stream is unavailable; try again.', { cause });
    };
    const letter = await deadLetters.get(seq).catch(unavailable);
    if (!letter) throw new ChatError('not_found', 'No dead letter at that seq (it may have been replayed already).');
    const endpoint = endpoints.find((candidate) => candidate.id === letter.endpointId);
    if (!endpoint) throw new ChatError('conflict', `Endpoint ${letter.endpointId} is no longer configured.`);
    const outcome = await (this.#options.deliver ?? deliverOnce)(endpoint, letter.eventId, letter.body);
    metrics.attempt(endpoint.id, outcome.delivered ? 'delivered' : 'failed', outcome.seconds);
    if (!outcome.delivered) throw new ChatError('conflict', `The endpoint refused the replay: ${outcome.error}`);
    metrics.replayed(endpoint.id);
    await deadLetters.remove(seq).catch(unavailable);
    return { replayed: true, eventId: letter.eventId, endpointId: letter.endpointId, status: outcome.status };
  }

  start(): Promise<void> {
    return this.#listener.listen();
  }

  stop(): Promise<void> {
    return this.#listener.close();
  }
}
