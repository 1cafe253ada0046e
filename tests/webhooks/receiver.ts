import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyWebhook, WEBHOOK_HEADERS } from '@chat/webhooks';

export interface Delivery {
  eventId: string;
  headers: Record<string, string | undefined>;
  body: string;
  /** Which attempt of this event this was at the receiver, from 1. */
  attempt: number;
  verified: boolean;
}

/** How the receiver answers the n-th attempt of an event: a status, after an optional delay. */
export type Behaviour = (attempt: number) => { status: number; delayMs?: number };

/** A webhook receiver that records every delivery, checks its signature, and answers as told. */
export class Receiver {
  readonly deliveries: Delivery[] = [];
  /** Event ids handled once each, as a receiver that de-duplicates by id would. */
  readonly processed = new Set<string>();
  readonly #server: Server;
  readonly #secret: string;
  behaviour: Behaviour;

  constructor(secret: string, behaviour: Behaviour) {
    this.#secret = secret;
    this.behaviour = behaviour;
    this.#server = createServer((req, res) => {
      void this.#handle(req).then(({ status, delayMs }) =>
        sleep(delayMs ?? 0, undefined, { ref: false }).then(() => {
          if (!res.destroyed) res.writeHead(status).end();
        }),
      );
    });
  }

  async #handle(req: IncomingMessage): Promise<{ status: number; delayMs?: number }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = { [WEBHOOK_HEADERS.id]: header(req, WEBHOOK_HEADERS.id), [WEBHOOK_HEADERS.timestamp]: header(req, WEBHOOK_HEADERS.timestamp), [WEBHOOK_HEADERS.signature]: header(req, WEBHOOK_HEADERS.signature) };
    const eventId = headers[WEBHOOK_HEADERS.id] ?? '';
    const attempt = this.deliveries.filter((d) => d.eventId === eventId).length + 1;
    const verified = verifyWebhook(this.#secret, headers, body, Math.floor(Date.now() / 1000)).ok;
    this.deliveries.push({ eventId, headers, body, attempt, verified });
    const answer = this.behaviour(attempt);
    // A late 2xx still means the work was done: the sender retries anyway, hence the event id.
    if (verified && answer.status < 300) this.processed.add(eventId);
    return answer;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** One started receiver per endpoint id, each answering as its behaviour says. */
export async function startReceivers(secret: string, behaviours: Record<string, Behaviour>): Promise<Map<string, Receiver>> {
  const receivers = new Map<string, Receiver>();
  for (const [id, behaviour] of Object.entries(behaviours)) {
    const receiver = new Receiver(secret, behaviour);
    await receiver.start();
    receivers.set(id, receiver);
  }
  return receivers;
}
