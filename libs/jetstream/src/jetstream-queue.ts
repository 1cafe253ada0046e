import type { ChatMessage } from '@chat/protocol';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { afterGap, queueMessageId, queueMessageIdAfterGap, QueueUnavailableError, type MessageQueue, type PublishOutcome, type QueueKeySource, type QueueHeaders } from '@chat/core';
import { ensureStream, sessionSubject, type StreamOptions } from './jetstream-stream.ts';
import { readSessionRange, type RangeBounds } from './jetstream-session-range.ts';
import { GroupedPublisher, PublishNotSentError, type PubAckReply } from './grouped-publisher.ts';

export interface JetStreamQueueOptions extends StreamOptions {
  /** How long to wait for a PubAck before the publish fails. */
  publishTimeoutMs?: number;
  /** Bounds of a range read, which scans the session's subject from its start. */
  rangeBounds?: RangeBounds;
}

const DEFAULT_RANGE_BOUNDS: RangeBounds = { maxScanned: 20_000, timeoutMs: 2_000 };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The durable queue on JetStream: one subject per session, de-duplicated by message id within
 * the stream's duplicate window. Takes ownership of the connection (close() drains it).
 */
export class JetStreamQueue implements MessageQueue {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #options: JetStreamQueueOptions;
  readonly #publisher: GroupedPublisher;
  /** Follows the connection's status events; a publish while disconnected could only time out. */
  #connected = true;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, options: JetStreamQueueOptions) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = jetstream(nc, { timeout: options.publishTimeoutMs ?? 5_000 });
    this.#publisher = new GroupedPublisher(nc, options.publishTimeoutMs ?? 5_000, () => this.ready());
    this.#options = options;
    void this.#followStatus();
  }

  async #followStatus(): Promise<void> {
    try {
      for await (const status of this.#nc.status()) {
        if (status.type === 'disconnect') this.#connected = false;
        else if (status.type === 'reconnect') this.#connected = true;
      }
    } catch {
      // The iterator ends with the connection; ready() reads isClosed() for that.
    }
  }

  /** Ensures the stream exists with our settings, then returns the queue. */
  static async create(nc: NatsConnection, options: JetStreamQueueOptions): Promise<JetStreamQueue> {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, options);
    return new JetStreamQueue(nc, jsm, options);
  }

  async publish(message: ChatMessage, headers?: QueueHeaders, keyOf: QueueKeySource = message): Promise<PublishOutcome> {
    const outcome = await this.#publishAs(message, headers, queueMessageId(keyOf));
    // The key was sealed by a gap record and this is a resend with a new seq: stored under a key of its own.
    if (outcome.duplicate && afterGap(outcome.first, message)) return this.#publishAs(message, headers, queueMessageIdAfterGap(keyOf, outcome.first.seq));
    return outcome;
  }

  async #publishAs(message: ChatMessage, headers: QueueHeaders | undefined, msgID: string): Promise<PublishOutcome> {
    const natsHeaders = toNatsHeaders(headers ?? {});
    // JetStream stores one message per id within its duplicate window: grouped publishes de-duplicate as single ones do.
    natsHeaders.set('Nats-Msg-Id', msgID);
    let ack: PubAckReply;
    try {
      ack = await this.#publisher.publish(sessionSubject(this.#options.subjectPrefix, message.sessionId), encoder.encode(JSON.stringify(message)), natsHeaders);
    } catch (error) {
      throw new QueueUnavailableError(`JetStream did not accept message ${message.id}`, { cause: error, unsent: error instanceof PublishNotSentError });
    }
    if (!ack.duplicate) return { duplicate: false };
    // A duplicate's PubAck carries the stream seq of the message first stored under the key.
    return { duplicate: true, first: await this.#storedAt(ack.seq, message) };
  }

  async #storedAt(streamSeq: number, repeat: ChatMessage): Promise<ChatMessage> {
    let stored: StoredMsg | null;
    try {
      stored = await this.#jsm.streams.getMessage(this.#options.stream, { seq: streamSeq });
    } catch (error) {
      throw new QueueUnavailableError(`JetStream could not read the first copy of message ${repeat.id}`, { cause: error });
    }
    const first = stored === null ? undefined : (JSON.parse(decoder.decode(stored.data)) as Partial<ChatMessage>);
    if (first?.sessionId !== repeat.sessionId || typeof first.userId !== 'string' || typeof first.seq !== 'number' || typeof first.id !== 'string' || typeof first.metadata !== 'object') {
      throw new QueueUnavailableError(`JetStream reported message ${repeat.id} a duplicate of stream message ${String(streamSeq)}, which is not a message of its session`);
    }
    return first as ChatMessage;
  }

  ready(): boolean {
    return this.#connected && !this.#nc.isClosed();
  }

  async lastSeq(sessionId: string): Promise<number> {
    const stored = await this.#jsm.streams.getMessage(this.#options.stream, { last_by_subj: sessionSubject(this.#options.subjectPrefix, sessionId) });
    if (stored === null) return 0;
    const seq: unknown = (JSON.parse(decoder.decode(stored.data)) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : 0;
  }

  async range(sessionId: string, afterSeq: number, beforeSeq: number, limit: number): Promise<ChatMessage[]> {
    const query = { stream: this.#options.stream, subject: sessionSubject(this.#options.subjectPrefix, sessionId), afterSeq, beforeSeq, limit };
    try {
      return await readSessionRange(this.#js, this.#jsm, query, this.#options.rangeBounds ?? DEFAULT_RANGE_BOUNDS);
    } catch (error) {
      throw new QueueUnavailableError(`JetStream could not read session ${sessionId}`, { cause: error });
    }
  }

  async ping(): Promise<void> {
    if (this.#nc.isClosed()) throw new QueueUnavailableError('the NATS connection is closed');
    await this.#jsm.streams.info(this.#options.stream);
  }

  async close(): Promise<void> {
    if (!this.#nc.isClosed()) await this.#nc.drain();
  }
}

export function toNatsHeaders(values: QueueHeaders): ReturnType<typeof natsHeaders> {
  const result = natsHeaders();
  for (const [key, value] of Object.entries(values)) result.set(key, value);
  return result;
}
