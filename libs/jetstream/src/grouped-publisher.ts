import { createInbox, errors, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';

/** What JetStream answers a stored (or de-duplicated) publish with. */
export interface PubAckReply {
  stream: string;
  seq: number;
  duplicate: boolean;
}

/**
 * The connection was known to be down when the group was to be written: nothing was handed to the
 * client (which would buffer it and send it after a reconnect), so the message is not in the stream.
 */
export class PublishNotSentError extends Error {
  override name = 'PublishNotSentError';
}

/** JetStream refused the message (or answered something that is not a PubAck): only that message. */
export class PublishRefusedError extends Error {
  override name = 'PublishRefusedError';
}

interface Waiting {
  resolve: (ack: PubAckReply) => void;
  reject: (error: Error) => void;
  group: Group;
}

interface Group {
  left: number;
  timer: NodeJS.Timeout | undefined;
}

interface Queued {
  subject: string;
  data: Uint8Array;
  headers: MsgHdrs;
  resolve: (ack: PubAckReply) => void;
  reject: (error: Error) => void;
}

/**
 * JetStream publishes grouped by turn of the event loop: every publish asked for in one turn goes
 * to the connection in one write, and their PubAcks come back on one reply subscription under one
 * timer, instead of a request (inbox entry, timer, write) each. A publish that travels alone costs
 * the server a read and a PubAck write of its own; in a group those are shared. Each message still
 * carries its own Nats-Msg-Id and gets its own PubAck, so de-duplication holds and a refusal or a
 * timeout fails only its own message.
 */
export class GroupedPublisher {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  readonly #prefix: string;
  readonly #waiting = new Map<string, Waiting>();
  #queued: Queued[] = [];
  #next = 0;
  #closed = false;

  readonly #connected: () => boolean;

  /** `connected`: false while the connection is known to be down; such a group is refused unwritten. */
  constructor(nc: NatsConnection, timeoutMs: number, connected: () => boolean = () => true) {
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
    this.#connected = connected;
    this.#prefix = `${createInbox()}.`;
    nc.subscribe(`${this.#prefix}*`, { callback: (error, msg) => (error === null ? this.#onReply(msg) : this.#failAll(error)) });
    void nc.closed().then(() => {
      this.#closed = true;
      this.#failAll(new errors.ClosedConnectionError());
    });
  }

  /** Resolves with the message's PubAck once JetStream has stored it (or found it a duplicate). */
  publish(subject: string, data: Uint8Array, headers: MsgHdrs): Promise<PubAckReply> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new errors.ClosedConnectionError());
        return;
      }
      this.#queued.push({ subject, data, headers, resolve, reject });
      // setImmediate, not a microtask: sends read from other sockets or answered by other replies in this turn join the group.
      if (this.#queued.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const queued = this.#queued;
    this.#queued = [];
    if (!this.#connected()) {
      const error = new PublishNotSentError('the NATS connection is down');
      for (const item of queued) item.reject(error);
      return;
    }
    const group: Group = { left: 0, timer: undefined };
    const tokens: string[] = [];
    for (const item of queued) {
      const token = (this.#next++).toString(36);
      try {
        // The client buffers these and writes them together at the end of this (synchronous) loop.
        this.#nc.publish(item.subject, item.data, { reply: this.#prefix + token, headers: item.headers });
      } catch (error) {
        item.reject(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      this.#waiting.set(token, { resolve: item.resolve, reject: item.reject, group });
      tokens.push(token);
    }
    if (tokens.length === 0) return;
    group.left = tokens.length;
    group.timer = setTimeout(() => {
      for (const token of tokens) this.#settle(token)?.reject(new errors.TimeoutError());
    }, this.#timeoutMs);
  }

  #onReply(msg: Msg): void {
    const waiting = this.#settle(msg.subject.slice(this.#prefix.length));
    if (waiting === undefined) return;
    if (msg.headers?.hasError === true) {
      waiting.reject(msg.headers.code === 503 ? new errors.NoRespondersError(msg.subject) : new PublishRefusedError(`JetStream answered ${String(msg.headers.code)} ${msg.headers.description}`));
      return;
    }
    let reply: { stream?: unknown; seq?: unknown; duplicate?: unknown; error?: { code?: unknown; description?: unknown } };
    try {
      reply = msg.json();
    } catch {
      waiting.reject(new PublishRefusedError('JetStream answered a publish with something that is not JSON'));
      return;
    }
    if (reply.error !== undefined) {
      waiting.reject(new PublishRefusedError(`JetStream refused the message: ${String(reply.error.description ?? reply.error.code)}`));
      return;
    }
    if (typeof reply.stream !== 'string' || reply.stream === '' || typeof reply.seq !== 'number') {
      waiting.reject(new PublishRefusedError('invalid ack response'));
      return;
    }
    waiting.resolve({ stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true });
  }

  /** Takes the waiting publish off the books (clearing its group's timer when it was the last). */
  #settle(token: string): Waiting | undefined {
    const waiting = this.#waiting.get(token);
    if (waiting === undefined) return undefined;
    this.#waiting.delete(token);
    if (--waiting.group.left === 0) clearTimeout(waiting.group.timer);
    return waiting;
  }

  #failAll(error: Error): void {
    for (const token of [...this.#waiting.keys()]) this.#settle(token)?.reject(error);
    const queued = this.#queued;
    this.#queued = [];
    for (const item of queued) item.reject(error);
  }
}
