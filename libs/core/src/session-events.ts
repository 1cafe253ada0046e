import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStream, sessionSubject, type StreamOptions } from './jetstream-stream.ts';
import { QueueUnavailableError } from './queue-unavailable-error.ts';

/**
 * Something that happened to a session, besides its messages, kept for the webhooks service.
 * `id` is the event's de-duplication key: the same on every retry of what caused it.
 */
export type SessionLifecycleEvent =
  | { id: string; type: 'session.closed'; createdAt: string; data: { sessionId: string; closedAt: string; closedBy: string } }
  | { id: string; type: 'member.removed'; createdAt: string; data: { sessionId: string; userId: string; removedBy: string } }
  | { id: string; type: 'member.unread_offline'; createdAt: string; data: { sessionId: string; userId: string; firstUnreadSeq: number; unreadSince: string; lastConnectedAt: string | null; offlineMinutes: number } };

/** The durable log of session events (a JetStream stream); the embedded mode has no webhooks and keeps them in memory. */
export interface SessionEventLog {
  /** Resolves once the event is durable; the same id twice within the stream's duplicate window is stored once. */
  append(event: SessionLifecycleEvent): Promise<void>;
}

/** The stream beside the message stream: `<NATS_STREAM>_EVENTS` on subjects `<NATS_SUBJECT_PREFIX>_events.<session id>`. */
export function sessionEventStream(queue: StreamOptions): StreamOptions {
  return { stream: `${queue.stream}_EVENTS`, subjectPrefix: `${queue.subjectPrefix}_events`, replicas: queue.replicas };
}

const encoder = new TextEncoder();

export class JetStreamSessionEvents implements SessionEventLog {
  readonly #js: JetStreamClient;
  readonly #options: StreamOptions;

  private constructor(js: JetStreamClient, options: StreamOptions) {
    this.#js = js;
    this.#options = options;
  }

  /** Ensures the stream exists; `options` are the events stream's own (see sessionEventStream). */
  static async create(nc: NatsConnection, options: StreamOptions): Promise<JetStreamSessionEvents> {
    await ensureStream(await jetstreamManager(nc), options);
    return new JetStreamSessionEvents(jetstream(nc, { timeout: 5_000 }), options);
  }

  async append(event: SessionLifecycleEvent): Promise<void> {
    try {
      await this.#js.publish(sessionSubject(this.#options.subjectPrefix, event.data.sessionId), encoder.encode(JSON.stringify(event)), { msgID: event.id });
    } catch (error) {
      throw new QueueUnavailableError(`JetStream did not accept session event ${event.id}`, { cause: error });
    }
  }
}

/** The embedded mode's log: nothing reads it but tests. */
export class MemorySessionEvents implements SessionEventLog {
  readonly events: SessionLifecycleEvent[] = [];

  append(event: SessionLifecycleEvent): Promise<void> {
    if (!this.events.some((known) => known.id === event.id)) this.events.push(event);
    return Promise.resolve();
  }
}
