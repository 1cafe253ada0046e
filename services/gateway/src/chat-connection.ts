import type { Principal } from '@chat/auth';
import { userRateKey, type Bus, type HistoryReader, type HistorySourceError, type MessageIntake, type PresenceEntry, type RateDecision, type ReadMarks, type SessionLog, type SessionRoster, type UserRateLimiter } from '@chat/core';
import { analysisLinkRefusal, CLOSE_CODES, parseClientFrame, type ChatMessage, type JsonBounds, type ParsedClientFrame, type SendFrame } from '@chat/protocol';
import { Connection, TOKEN_EXPIRED_REASON, type ConnectionSettings } from './connection.ts';
import { retryWithin, type JoinRetryBudget } from './join-retry.ts';
import type { GatewayLogger } from './gateway-logger.ts';
import type { LocalSessions, SessionMember } from './local-sessions.ts';
import type { PresenceRegistry } from './presence-registry.ts';
import { injectTraceHeaders, stopwatch, withSpan } from '@chat/telemetry';
import { RateGuard } from './rate-guard.ts';
import { answerReadFrame } from './read-frame.ts';
import type { Socket } from './socket.ts';

export interface ChatConnectionDeps extends ConnectionSettings {
  state: SessionLog & SessionRoster;
  bus: Bus;
  intake: MessageIntake;
  /** Where a catch-up reads what the client missed: the store, the recent list and the queue. */
  history: HistoryReader;
  sessions: LocalSessions;
  presence: PresenceRegistry;
  logger: GatewayLogger;
  maxMessageChars: number;
  jsonBounds: JsonBounds;
  ratePerSec: number;
  rateBurst: number;
  /** Counts the user's sends over all of their sockets, on every replica (and their REST posts). */
  rateLimiter: UserRateLimiter;
  /** Live state takes rateLimiter's budgets in the reservation itself (SessionLog.takesBudgetsOf): the intake is given the budget. */
  budgetInReserve: boolean;
  /** How long a catch-up waits for a message that is allocated but not readable yet, before skipping it. */
  backlogWaitMs: number;
  historyPageSize: number;
  /** Moves read cursors; without it `read` frames answer `unavailable`. */
  readMarks?: ReadMarks;
  /** Hosts an analysis result's link may point to (ANALYSIS_LINK_HOSTS). */
  analysisLinkHosts: readonly string[];
}

const PONG = '{"type":"pong"}';

const SETTLED = Promise.resolve();

function IGNORE(): void {
  // The join's outcome is the opener's to handle.
}

/**
 * One `/ws/chat/{session}` socket. It joins the session's local feed first, then sends the
 * welcome and any catch-up, holding live messages meanwhile, so the client sees every seq after
 * its position once and in order. It is its own presence entry, so an idle socket holds no copy.
 */
export class ChatConnection extends Connection implements SessionMember, PresenceEntry {
  readonly kind = 'chat';
  readonly sessionId: string;
  readonly #deps: ChatConnectionDeps;
  /** Made at the first frame: an idle connection holds no buckets. */
  #guard: RateGuard | undefined;
  /** The last seq this client has; nothing at or below it is sent again. */
  #position = 0;
  /** Live messages held while the welcome and catch-up are being sent; undefined once live. */
  #held: { seq: number; frame: Buffer }[] | undefined = [];
  #attached = false;
  /** The presence join while it runs; a settled promise once it has (a leave waits for it). */
  #presenceJoined: Promise<void> | undefined;
  /** Sends accepted and not answered yet: a 4429 close waits for their acks. Made at the first send. */
  #inFlight: Set<Promise<void>> | undefined;
  /** Past the rate limit for good: frames are no longer read, and the socket closes once #inFlight is empty. */
  #cutOff = false;
  /** The user's budget is asked in frame order, so sends of one socket reach the intake in the order they came. */
  #sendTurn: Promise<unknown> = SETTLED;

  constructor(socket: Socket, principal: Principal, sessionId: string, deps: ChatConnectionDeps, id?: string) {
    super(socket, principal, deps, 'chat', id);
    this.sessionId = sessionId;
    this.#deps = deps;
  }

  get connectionId(): string {
    return this.id;
  }

  get userName(): string | undefined {
    return this.principal.name;
  }

  /** `joinRetryUntil`: until when the reads may be tried again after a failure; not at all when omitted. */
  async open(lastSeq: number | undefined, joinRetryUntil = 0): Promise<void> {
    let head: number;
    const budget: JoinRetryBudget = { until: joinRetryUntil, abandoned: () => this.closing };
    const onRetry = (error: unknown) => this.#deps.logger.debug({ err: error, sessionId: this.sessionId }, 'retrying a step of a chat connection\'s open');
    try {
      // A failed attach detaches again, so trying it once more subscribes at most once.
      await retryWithin(() => this.#deps.sessions.attach(this.sessionId, this), budget, onRetry);
      this.#attached = true;
      if (this.#closedMeanwhile()) return;
      // Membership, head and presence join after the subscription, in one command: a removal whose
      // `member_removed` event went out between admission and the subscription would otherwise
      // leave the socket open, and a removed member is never registered. Admins need no membership,
      // so they are never "removed". A client that holds a welcome is online for everyone.
      const joining = retryWithin(() => this.#deps.presence.joinMember(this, this.principal.admin), budget, onRetry);
      // The close's clean-up waits for the join, so its leave comes after it.
      this.#presenceJoined = joining.then(IGNORE, IGNORE);
      const { membership, head: current } = await joining;
      this.#presenceJoined = SETTLED;
      if (!this.principal.admin && membership === 'not_member') {
        this.#detach();
        this.memberRemoved();
        return;
      }
      head = current ?? 0;
    } catch (error) {
      this.#deps.logger.warn({ err: error, sessionId: this.sessionId }, 'could not open a chat connection');
      this.end(CLOSE_CODES.tryAgainLater, 'unavailable');
      return;
    }
    if (this.#closedMeanwhile() || this.closing) return;
    this.#position = lastSeq === undefined ? head : Math.min(lastSeq, head);
    this.write(JSON.stringify({ type: 'welcome', sessionId: this.sessionId, userId: this.principal.userId, connectionId: this.id, seq: head }), 'welcome');
    this.welcomed();
    this.listen();
    if (this.#position < head) await this.#catchUp(head);
    this.#goLive();
  }

  receiveMessage(seq: number, frame: Buffer): void {
    if (this.#held) {
      this.#held.push({ seq, frame });
      return;
    }
    if (seq <= this.#position) return;
    this.#position = seq;
    this.write(frame);
  }

  receiveEvent(): void {
    // Presence and typing events are for status sockets.
  }

  protected override async cleanUp(): Promise<void> {
    this.#detach();
    if (this.#presenceJoined) {
      await this.#presenceJoined;
      await this.#deps.presence.leave(this);
    }
  }

  /** Whether the socket closed while the open waited; its subscription is then given back. */
  #closedMeanwhile(): boolean {
    if (!this.closed) return false;
    this.#detach();
    return true;
  }

  #detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#deps.sessions.detach(this.sessionId, this);
  }

  #goLive(): void {
    const held = (this.#held ?? []).sort((a, b) => a.seq - b.seq);
    this.#held = undefined;
    for (const { seq, frame } of held) this.receiveMessage(seq, frame);
  }

  protected override handleFrame(text: string, binary: boolean): Promise<void> | undefined {
    const parsed: ParsedClientFrame = binary
      ? { ok: false, code: 'invalid_frame', message: 'Frames must be JSON text.' }
      : parseClientFrame(text, { maxMessageChars: this.#deps.maxMessageChars, json: this.#deps.jsonBounds });
    const clientMsgId = parsed.ok ? (parsed.frame.type === 'send' ? parsed.frame.clientMsgId : undefined) : parsed.clientMsgId;
    this.metrics.framesIn.add(1, { type: parsed.ok ? parsed.frame.type : 'invalid' });
    // Not accepted, so not answered: the sender resends what has no ack after it reconnects.
    if (this.#cutOff) return;
    this.#guard ??= new RateGuard({ ratePerSec: this.#deps.ratePerSec, burst: this.#deps.rateBurst });
    const verdict = this.#guard.take();
    if (verdict !== 'ok') this.metrics.rateLimitHits.add(1, { transport: 'ws' });
    if (verdict === 'exceeded') {
      this.#cutOff = true;
      void this.#endAfterAnswers(CLOSE_CODES.rateLimited, 'rate limit exceeded');
      return undefined;
    }
    if (verdict === 'limited') {
      this.writeError('rate_limited', 'Too many messages; slow down.', clientMsgId);
      return undefined;
    }
    if (!parsed.ok) {
      this.refuseFrame(parsed.code, parsed.message, parsed.clientMsgId);
      return undefined;
    }
    switch (parsed.frame.type) {
      case 'send': {
        // Where live state takes the budget in the reservation itself, the intake is called at once,
        // in frame order; otherwise the budget is asked first, in frame order, then the intake.
        let budget: Promise<RateDecision> | undefined;
        if (!this.#deps.budgetInReserve) {
          budget = this.#sendTurn.then(() => this.#deps.rateLimiter.take(userRateKey('sends', this.principal.userId), { perSec: this.#deps.ratePerSec, burst: this.#deps.rateBurst }));
          this.#sendTurn = budget.catch(() => undefined);
        }
        const answered = this.#send(parsed.frame, budget);
        const inFlight = (this.#inFlight ??= new Set());
        inFlight.add(answered);
        void answered.finally(() => inFlight.delete(answered));
        return answered;
      }
      case 'read':
        return answerReadFrame(this, this.#deps.readMarks, this.#deps.logger, { sessionId: this.sessionId, userId: this.principal.userId, seq: parsed.frame.seq });
      case 'typing':
        return this.#typing();
      case 'ping':
        this.write(PONG, 'pong');
        return undefined;
      case 'auth':
        return this.renew(parsed.frame.token);
    }
  }

  /** Sends accepted before the expiry get their acks first, then the socket closes with 4401. */
  protected override expire(): void {
    this.#cutOff = true;
    void this.#endAfterAnswers(CLOSE_CODES.badToken, TOKEN_EXPIRED_REASON);
  }

  /** `budget`: the user's budget decision, when it was asked apart from the reservation. */
  async #send(frame: SendFrame, budget: Promise<RateDecision> | undefined): Promise<void> {
    // Admitted before any cut-off, so answered even if the socket is closing: the close waits for it.
    if (budget !== undefined) {
      const decision = await budget;
      if (!decision.allowed) return this.#refuseOverBudget(frame, decision.retryAfterMs);
    }
    const elapsed = stopwatch();
    const linkRefused = analysisLinkRefusal(frame.metadata, this.#deps.analysisLinkHosts);
    if (linkRefused !== undefined) return this.refuseFrame('invalid_frame', linkRefused, frame.clientMsgId);
    // The send span is the parent of what the message causes downstream (the persister's span).
    const result = await withSpan('send', (span) => {
      span.setAttribute('chat.session_id', this.sessionId);
      return this.#deps.intake.accept({
        sessionId: this.sessionId,
        userId: this.principal.userId,
        ...(this.principal.name === undefined ? {} : { userName: this.principal.name }),
        clientMsgId: frame.clientMsgId,
        body: frame.body,
        ...(frame.metadata === undefined ? {} : { metadata: frame.metadata }),
        headers: injectTraceHeaders(),
        ...(budget === undefined ? { budget: { limiter: this.#deps.rateLimiter, key: userRateKey('sends', this.principal.userId), perSec: this.#deps.ratePerSec, burst: this.#deps.rateBurst } } : {}),
      });
    });
    if (result.ok) {
      const { id, seq, timestamp } = result.message;
      this.metrics.sendAckLatency.record(elapsed(), { transport: 'ws' });
      if (!result.duplicate) this.metrics.messagesAccepted.add(1, { transport: 'ws' });
      this.write(JSON.stringify({ type: 'ack', clientMsgId: frame.clientMsgId, id, seq, timestamp }), 'ack');
      return;
    }
    if (result.code === 'rate_limited') return this.#refuseOverBudget(frame, result.retryAfterMs);
    if (result.code === 'not_found') {
      this.writeError('not_found', 'The session does not exist or is closed.', frame.clientMsgId);
      this.end(CLOSE_CODES.sessionNotFound, 'session closed');
      return;
    }
    this.#deps.logger.warn({ err: result.cause, sessionId: this.sessionId }, 'a send failed');
    this.writeError('unavailable', 'The message could not be stored; send it again.', frame.clientMsgId);
  }

  #refuseOverBudget(frame: SendFrame, retryAfterMs: number): void {
    this.metrics.rateLimitHits.add(1, { transport: 'ws' });
    this.writeError('rate_limited', `Too many messages from this user; try again in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s.`, frame.clientMsgId);
    if (this.#guard?.strike() === 'exceeded') {
      this.#cutOff = true;
      void this.#endAfterAnswers(CLOSE_CODES.rateLimited, 'rate limit exceeded');
    }
  }

  /**
   * Closes once every send accepted before now has its ack (or error) written, so the close frame
   * follows them on the socket and the sender does not resend messages it already got through.
   */
  async #endAfterAnswers(code: number, reason: string): Promise<void> {
    while (this.#inFlight !== undefined && this.#inFlight.size > 0 && !this.closing) await Promise.allSettled([...this.#inFlight]);
    this.end(code, reason);
  }

  async #typing(): Promise<void> {
    const event = { type: 'typing', userId: this.principal.userId, ...(this.principal.name === undefined ? {} : { userName: this.principal.name }) };
    try {
      await this.#deps.bus.publish(this.sessionId, JSON.stringify(event));
    } catch (error) {
      this.#deps.logger.debug({ err: error, sessionId: this.sessionId }, 'typing event not published');
    }
  }

  /**
   * Sends every message in (position, target] from the history reader, and live messages held
   * meanwhile, a page at a time. A seq that is allocated but not readable anywhere yet is waited
   * for up to backlogWaitMs, then skipped.
   */
  async #catchUp(target: number): Promise<void> {
    let deadline = Date.now() + this.#deps.backlogWaitMs;
    while (this.#position < target && !this.closing) {
      const before = this.#position;
      const nextKnown = await this.#catchUpRound(target);
      if (this.#position > before) {
        deadline = Date.now() + this.#deps.backlogWaitMs;
        await this.#drained();
        continue;
      }
      if (Date.now() < deadline) {
        await delay(25);
        continue;
      }
      const resume = Math.min(target, (nextKnown ?? target + 1) - 1);
      this.#deps.logger.warn({ sessionId: this.sessionId, missing: { from: this.#position + 1, to: resume } }, 'catch-up skipped messages it could not find');
      this.#position = resume;
    }
  }

  /** One page after the position; returns the lowest seq seen beyond a gap, if any. */
  async #catchUpRound(target: number): Promise<number | undefined> {
    // A source that fails is logged and the others still serve: the wait above covers what it held.
    const onSourceError = (error: HistorySourceError) => this.#deps.logger.warn({ err: error.cause, sessionId: this.sessionId }, `catch-up could not read the ${error.source}`);
    const page = await this.#deps.history.page(this.sessionId, { after: this.#position, limit: this.#deps.historyPageSize }, { open: true, newestKnown: target, onSourceError });
    this.#sendInOrder(page.messages);
    this.#sendHeldInOrder();
    const beyond = [...page.messages.map((m) => m.seq), ...(this.#held ?? []).map((h) => h.seq)].filter((seq) => seq > this.#position);
    return beyond.length === 0 ? undefined : Math.min(...beyond);
  }

  #sendInOrder(messages: readonly ChatMessage[]): void {
    for (const message of messages) {
      if (message.seq <= this.#position) continue;
      if (message.seq !== this.#position + 1) return;
      this.#position = message.seq;
      this.write(JSON.stringify(message), 'message');
    }
  }

  #sendHeldInOrder(): void {
    const held = this.#held;
    if (!held) return;
    held.sort((a, b) => a.seq - b.seq);
    for (const { seq, frame } of held) {
      if (seq <= this.#position) continue;
      if (seq !== this.#position + 1) return;
      this.#position = seq;
      this.write(frame, 'message');
    }
  }

  /** Lets a long catch-up wait for the peer instead of filling the send buffer past the limit. */
  async #drained(): Promise<void> {
    for (let waited = 0; this.socket.bufferedAmount > this.#deps.slowConsumerBytes / 4 && waited < 5_000 && !this.closing; waited += 10) await delay(10);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
