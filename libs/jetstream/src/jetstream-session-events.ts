import { QueueUnavailableError, type SessionEventLog, type SessionLifecycleEvent } from '@chat/core';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStream, sessionSubject, type StreamOptions } from './jetstream-stream.ts';

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
