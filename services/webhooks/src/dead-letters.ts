import { JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';

/** An event an endpoint never accepted within its attempts. */
export interface DeadLetter {
  endpointId: string;
  eventId: string;
  type: string;
  attempts: number;
  lastError: string;
  lastStatus?: number;
  failedAt: string;
  body: string;
}

/** A dead letter as listed: with its place in the dead-letter stream, which names it for a replay. */
export type StoredDeadLetter = DeadLetter & { seq: number };

export interface DeadLetterStore {
  add(letter: DeadLetter): Promise<void>;
  /** Newest first. */
  list(options: { endpointId?: string; limit: number }): Promise<StoredDeadLetter[]>;
  /** One dead letter, or null when there is none at that seq (never was, or replayed). */
  get(seq: number): Promise<StoredDeadLetter | null>;
  /** Drops a dead letter once its event was delivered after all. */
  remove(seq: number): Promise<void>;
}

const SCAN_LIMIT = 5_000;

/** Dead letters in a JetStream stream of their own: durable like the events, with no new table. */
export class JetStreamDeadLetters implements DeadLetterStore {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #stream: string;

  private constructor(js: JetStreamClient, jsm: JetStreamManager, stream: string) {
    this.#js = js;
    this.#jsm = jsm;
    this.#stream = stream;
  }

  static async create(nc: NatsConnection, stream: string): Promise<JetStreamDeadLetters> {
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.streams.info(stream);
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
      await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: StorageType.File, allow_direct: true });
    }
    return new JetStreamDeadLetters(jetstream(nc), jsm, stream);
  }

  async add(letter: DeadLetter): Promise<void> {
    const h = natsHeaders();
    // The same event dead twice (a redelivery after a crash) is stored once.
    h.set('Nats-Msg-Id', `${letter.endpointId}:${letter.eventId}`);
    await this.#js.publish(`${this.#stream}.${letter.endpointId}`, JSON.stringify(letter), { headers: h });
  }

  async list(options: { endpointId?: string; limit: number }): Promise<StoredDeadLetter[]> {
    const { state } = await this.#jsm.streams.info(this.#stream);
    const found: StoredDeadLetter[] = [];
    for (let seq = state.last_seq; seq >= state.first_seq && seq > state.last_seq - SCAN_LIMIT && found.length < options.limit; seq--) {
      if (seq === 0) break;
      const stored = await this.#jsm.streams.getMessage(this.#stream, { seq }).catch(() => null);
      if (stored === null) continue;
      const letter = { ...stored.json<DeadLetter>(), seq };
      if (options.endpointId === undefined || letter.endpointId === options.endpointId) found.push(letter);
    }
    return found;
  }

  async get(seq: number): Promise<StoredDeadLetter | null> {
    try {
      const stored = await this.#jsm.streams.getMessage(this.#stream, { seq });
      return stored === null ? null : { ...stored.json<DeadLetter>(), seq };
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return null;
      throw error;
    }
  }

  async remove(seq: number): Promise<void> {
    await this.#jsm.streams.deleteMessage(this.#stream, seq, false);
  }
}
