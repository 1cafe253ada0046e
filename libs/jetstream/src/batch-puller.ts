import { createInbox, nanos, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** What the consumer needs of a message delivered by a pull (the subset of a JsMsg it uses). */
export interface PulledMessage {
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  readonly deliveryCount: number;
  ack(): void;
  nak(delayMs?: number): void;
  term(): void;
}

export interface BatchPullerOptions {
  stream: string;
  consumer: string;
  /** Most messages held unhandled; pulls stop while the buffer is this full. */
  highWater: number;
  /** Most messages one pull asks for. */
  pullSize: number;
  /** Pause after a pull that did not come back full, so a trickle is fetched in bursts. */
  pollMs: number;
  /** Longest pause while the consumer stays empty. */
  maxPollMs: number;
  /** A pull with no end after this long is taken as lost (its consumer's leader moved) and made again. */
  requestTimeoutMs: number;
}

const ACK = Uint8Array.of(43, 65, 67, 75); // +ACK
const NAK = Uint8Array.of(45, 78, 65, 75); // -NAK
const TERM = Uint8Array.of(43, 84, 69, 82, 77); // +TERM
const encoder = new TextEncoder();
const MAX_PULLS_UNDER_WAY = 2;

interface PullRequest {
  id: number;
  wanted: number;
  delivered: number;
  /** What the consumer still had after the latest message of this pull. */
  pendingAfter: number;
  timer: NodeJS.Timeout;
}

/** Status codes that end a no-wait pull normally: nothing (more) to deliver, or the request expired. */
const PULL_ENDED = new Set([404, 408]);

/**
 * Pulls with `no_wait`: each request delivers what the consumer has, up to pullSize and the room in
 * the buffer, at once, and ends with a status (or with its last message when served in full). After
 * one that came back short the next waits pollMs, so messages of a steady trickle collect on the
 * server and travel in bursts: one write for many messages on both sides, where a standing pull has
 * the server send every message by itself as it arrives. While a backlog drains, two are under way.
 * While pulls linger, acks and naks wait for the next pull (at most pollMs) and leave in its write.
 */
export class BatchPuller {
  readonly #nc: NatsConnection;
  readonly #options: BatchPullerOptions;
  readonly #prefix = createInbox();
  readonly #subscription: Subscription;
  readonly #buffer: PulledMessage[] = [];
  readonly #subject: string;
  /** Pulls under way, oldest first: the server serves them in that order. */
  readonly #underWay: PullRequest[] = [];
  #requests = 0;
  #pollTimer: NodeJS.Timeout | undefined;
  #idlePolls = 0;
  #stopping = false;
  /** Answers (acks, naks) held for the next pull's write; see #respond. */
  #answers: { subject: string; payload: Uint8Array }[] = [];
  #answerTimer: NodeJS.Timeout | undefined;
  readonly #answerSink: AnswerSink = (subject, payload) => this.#respond(subject, payload);
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  #requestEnded: (() => void) | undefined;

  constructor(nc: NatsConnection, options: BatchPullerOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#subject = `$JS.API.CONSUMER.MSG.NEXT.${options.stream}.${options.consumer}`;
    this.#subscription = nc.subscribe(`${this.#prefix}.*`, { callback: (error, message) => (error ? this.#fail(error) : this.#receive(message)) });
    this.#pull();
  }

  /**
   * Waits for at least one message (or a failure), and for the rest of the pull under way, which
   * follows within the same burst; then takes what is buffered, up to max.
   */
  async take(max: number): Promise<PulledMessage[]> {
    const waiting = () => (this.#buffer.length === 0 || (this.#buffer.length < max && this.#underWay.length > 0)) && this.#error === undefined && !this.#stopping;
    while (waiting()) await new Promise<void>((resolve) => (this.#wake = resolve));
    if (this.#buffer.length === 0 && this.#error !== undefined) throw this.#error;
    const batch = this.#buffer.splice(0, max);
    this.#pullSoon();
    return batch;
  }

  /** Stops pulling and wakes a waiting take(); what is buffered stays for stop(). */
  interrupt(): void {
    this.#stopping = true;
    clearTimeout(this.#pollTimer);
    this.#sendAnswers();
    this.#wake?.();
  }

  /** Stops pulling, waits for the pulls under way to end, and returns every message received but not taken. */
  async stop(): Promise<PulledMessage[]> {
    this.interrupt();
    while (this.#underWay.length > 0) await new Promise<void>((resolve) => (this.#requestEnded = resolve));
    this.#subscription.unsubscribe();
    return this.#buffer.splice(0);
  }

  #pull(): void {
    this.#pollTimer = undefined;
    const expected = this.#underWay.reduce((sum, request) => sum + request.wanted - request.delivered, 0);
    const room = Math.min(this.#options.pullSize, this.#options.highWater - this.#buffer.length - expected);
    if (this.#stopping || room <= 0 || this.#error !== undefined) return;
    const id = ++this.#requests;
    const timer = setTimeout(() => this.#endRequest(id), this.#options.requestTimeoutMs);
    this.#underWay.push({ id, wanted: room, delivered: 0, pendingAfter: 0, timer });
    try {
      // The answers held since the last pull go first, in the same write: the server frees their
      // places in max_ack_pending before it serves the pull.
      this.#sendAnswers();
      this.#nc.publish(this.#subject, encoder.encode(JSON.stringify({ batch: room, no_wait: true })), { reply: `${this.#prefix}.${id}` });
    } catch (error) {
      this.#fail(error);
    }
  }

  /**
   * The next pull. While a backlog drains, two are under way, so the server sends the next while
   * the last is read; otherwise one at a time, after a pause that grows while nothing comes.
   */
  #pullSoon(): void {
    if (this.#pollTimer !== undefined || this.#stopping) return;
    if (this.#underWay.length >= (this.#idlePolls === 0 ? MAX_PULLS_UNDER_WAY : 1)) return;
    const { pollMs, maxPollMs } = this.#options;
    const delay = this.#idlePolls === 0 ? 0 : Math.min(maxPollMs, pollMs * 2 ** (this.#idlePolls - 1));
    if (delay === 0) {
      this.#pull();
      if (this.#idlePolls === 0 && this.#underWay.length < MAX_PULLS_UNDER_WAY) this.#pull();
    } else {
      this.#pollTimer = setTimeout(() => this.#pull(), delay);
    }
  }

  #receive(message: Msg): void {
    if (message.reply !== undefined && message.reply.startsWith('$JS.ACK.')) {
      // A delivered message carries its own subject, not the request's: it counts for the oldest pull under way.
      const { deliveryCount, pending } = ackSubjectInfo(message.reply);
      this.#buffer.push(pulled(message, deliveryCount, this.#answerSink));
      const [request] = this.#underWay;
      if (request !== undefined) {
        request.delivered++;
        request.pendingAfter = pending;
        // A pull served in full ends without a status.
        if (request.delivered >= request.wanted) this.#endRequest(request.id);
      }
      this.#wake?.();
      return;
    }
    // A status (the end of a pull) comes on the request's own reply subject.
    const id = Number(message.subject.slice(this.#prefix.length + 1));
    const code = message.headers?.code ?? 0;
    if (code === 100) return; // a heartbeat
    if (!PULL_ENDED.has(code) && code !== 409) {
      this.#fail(new Error(`JetStream answered a pull with ${String(code)} ${message.headers?.description ?? ''}`.trim()));
    } else if (code === 409 && /consumer (is )?deleted/i.test(message.headers?.description ?? '')) {
      this.#fail(new Error(`JetStream: ${message.headers?.description ?? 'consumer deleted'}`));
    }
    this.#endRequest(id);
  }

  #endRequest(id: number): void {
    const at = this.#underWay.findIndex((request) => request.id === id);
    const [request] = at < 0 ? [] : this.#underWay.splice(at, 1);
    if (request === undefined) return;
    clearTimeout(request.timer);
    // Served in full, or the server said more are waiting (a backlog): the next pull goes at once.
    this.#idlePolls = request.delivered >= request.wanted || request.pendingAfter > 0 ? 0 : request.delivered > 0 ? 1 : this.#idlePolls + 1;
    const ended = this.#requestEnded;
    this.#requestEnded = undefined;
    ended?.();
    this.#wake?.();
    this.#pullSoon();
  }

  /**
   * While pulls linger (a trickle), an answer waits for the next pull, at most pollMs, and travels
   * in its write: a batch's acks and the pull after it are one write for the client and one read for
   * the server instead of two. It is sent only after the caller's commit, as before, just later.
   * While a backlog drains (pulls follow at once), and once stopping, it goes at once.
   */
  #respond(subject: string, payload: Uint8Array): void {
    if (this.#stopping || this.#idlePolls === 0) {
      this.#nc.publish(subject, payload);
      return;
    }
    this.#answers.push({ subject, payload });
    this.#answerTimer ??= setTimeout(() => this.#sendAnswers(), this.#options.pollMs);
  }

  #sendAnswers(): void {
    clearTimeout(this.#answerTimer);
    this.#answerTimer = undefined;
    const answers = this.#answers;
    if (answers.length === 0) return;
    this.#answers = [];
    try {
      for (const { subject, payload } of answers) this.#nc.publish(subject, payload);
    } catch {
      // The connection is closed: the unanswered messages come back after the ack wait, and the
      // store skips the rows it already has.
    }
  }

  #fail(error: unknown): void {
    this.#error ??= error instanceof Error ? error : new Error(String(error));
    for (const { id } of [...this.#underWay]) this.#endRequest(id);
    this.#wake?.();
  }
}

/** Where a pulled message's answer goes: one function per puller, not a closure per message. */
export type AnswerSink = (subject: string, payload: Uint8Array) => void;

export function pulled(message: Msg, deliveryCount: number, answer: AnswerSink): PulledMessage {
  return new PulledReply(message, deliveryCount, answer);
}

/**
 * A class, not an object literal with a getter: a literal's getter is a new closure per message,
 * which put each message's object in dictionary mode, and those (with the payloads they hold)
 * survived every scavenge until a full collection.
 */
class PulledReply implements PulledMessage {
  readonly data: Uint8Array;
  readonly deliveryCount: number;
  readonly #message: Msg;
  readonly #answer: AnswerSink;
  #answered = false;

  constructor(message: Msg, deliveryCount: number, answer: AnswerSink) {
    this.data = message.data;
    this.deliveryCount = deliveryCount;
    this.#message = message;
    this.#answer = answer;
  }

  get headers(): MsgHdrs | undefined {
    return this.#message.headers;
  }

  ack(): void {
    this.#respond(ACK);
  }

  nak(delayMs?: number): void {
    this.#respond(delayMs ? encoder.encode(`-NAK ${JSON.stringify({ delay: nanos(delayMs) })}`) : NAK);
  }

  term(): void {
    this.#respond(TERM);
  }

  /** The first answer only: JetStream takes one per delivery. */
  #respond(payload: Uint8Array): void {
    if (this.#answered || this.#message.reply === undefined) return;
    this.#answered = true;
    this.#answer(this.#message.reply, payload);
  }
}

/**
 * The delivery count and the messages still pending for the consumer, from an ack subject:
 * `$JS.ACK.<stream>.<consumer>.<count>.<stream seq>.<consumer seq>.<time>.<pending>` (9 tokens)
 * or, from newer servers, with `<domain>.<account hash>` before the stream (12 or more).
 */
export function ackSubjectInfo(reply: string): { deliveryCount: number; pending: number } {
  const tokens = reply.split('.');
  const at = tokens.length === 9 ? 4 : 6;
  const count = Number(tokens[at]);
  const pending = Number(tokens[at + 4]);
  return { deliveryCount: Number.isSafeInteger(count) && count > 0 ? count : 1, pending: Number.isSafeInteger(pending) && pending > 0 ? pending : 0 };
}
