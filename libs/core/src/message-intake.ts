import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSeqGap, isStorableText, seqGap, type ChatMessage } from '@chat/protocol';
import type { Bus, MessageQueue, PublishOutcome, QueueHeaders, SessionLog } from './ports.ts';
import { QueueUnavailableError } from './queue-unavailable-error.ts';
import type { SessionDirectory } from './session-directory.ts';
import type { RateBudget, UserRateLimiter } from './user-rate-limiter.ts';

export interface AcceptInput {
  sessionId: string;
  userId: string;
  userName?: string;
  /** Absent for REST posts without one: such a message is never de-duplicated. */
  clientMsgId?: string;
  body: string;
  metadata?: Record<string, unknown>;
  /** Trace context to carry to the persister. */
  headers?: QueueHeaders;
  /** The sender's budget, taken before anything else: a refusal answers `rate_limited` and changes nothing. */
  budget?: SendBudget;
}

/** A budget of a user rate limiter: `key` in `limiter`, at `perSec` sustained and `burst` at once. */
export interface SendBudget extends RateBudget {
  limiter: UserRateLimiter;
  key: string;
}

/** How long after a queue outage a failed publish's seq is still sealed: half JetStream's two-minute duplicate window. */
const SEAL_AFTER_OUTAGE_WITHIN_MS = 60_000;
const SEAL_RETRY_MS = 200;
/** How long a send waits for an earlier seal of its session before it goes on regardless. */
const SEAL_WAIT_MS = 2_000;
/** How often, and how far apart, a refused-unwritten send tries to give its seq back while it is not the head. */
const RELEASE_ATTEMPTS = 5;
const RELEASE_RETRY_MS = 20;

export type AcceptResult =
  | { ok: true; message: ChatMessage; duplicate: boolean }
  | { ok: false; code: 'not_found' | 'unavailable'; cause?: unknown }
  | { ok: false; code: 'rate_limited'; retryAfterMs: number; cause?: undefined };

/**
 * The path every message takes, from WebSocket or REST: seq and de-duplication in live state,
 * durable in the queue, then committed to the recent list and fanned out. The caller may
 * acknowledge only an `ok` result, which is durable by then.
 */
export class MessageIntake {
  readonly #state: SessionLog;
  readonly #queue: MessageQueue;
  readonly #bus: Bus;
  readonly #directory: SessionDirectory;
  readonly #now: () => number;
  /** Seals waiting for the queue to come back, by session: later sends of the session wait for them, so the gap is fanned out in its place. */
  readonly #pendingSeals = new Map<string, Promise<void>>();
  readonly #sealingKeys = new Set<string>();

  constructor(deps: { state: SessionLog; queue: MessageQueue; bus: Bus; directory: SessionDirectory; now?: () => number }) {
    this.#state = deps.state;
    this.#queue = deps.queue;
    this.#bus = deps.bus;
    this.#directory = deps.directory;
    this.#now = deps.now ?? Date.now;
  }

  async accept(input: AcceptInput): Promise<AcceptResult> {
    const candidate = { id: randomUUID(), timestamp: new Date(this.#now()).toISOString() };
    // Without a clientMsgId the message's own id is its de-duplication key, which never repeats.
    const clientMsgId = input.clientMsgId ?? candidate.id;
    const { budget } = input;
    // Taken by the reservation itself where live state can (one round trip for both), else first.
    const folded = budget !== undefined && this.#state.takesBudgetsOf?.(budget.limiter) === true;
    if (budget !== undefined && !folded) {
      const decision = await budget.limiter.take(budget.key, budget);
      if (!decision.allowed) return { ok: false, code: 'rate_limited', retryAfterMs: decision.retryAfterMs };
    }
    // Reserving a seq that cannot be published would leave a hole: answer before touching live state.
    if (!this.#queue.ready()) return { ok: false, code: 'unavailable', cause: new QueueUnavailableError('the queue is not connected') };
    // A resend of the message being sealed goes ahead: it fills its own seq, and the seal then finds it.
    const sealing = this.#pendingSeals.get(input.sessionId);
    if (sealing && !this.#sealingKeys.has(sealKey(input.sessionId, input.userId, clientMsgId))) await Promise.race([sealing, sleep(SEAL_WAIT_MS, undefined, { ref: false })]);
    try {
      const key = { sessionId: input.sessionId, userId: input.userId, clientMsgId };
      const reserveInput = { ...key, ...candidate, durableChecked: input.clientMsgId === undefined };
      // Only the first reservation takes the budget: the ones after it are the same send.
      let reservation = await this.#state.reserve(folded ? { ...reserveInput, budget } : reserveInput);
      if (reservation.status === 'rate_limited') return { ok: false, code: 'rate_limited', retryAfterMs: reservation.retryAfterMs };
      if (reservation.status === 'unknown_session') {
        if (!(await this.#directory.ensureLive(input.sessionId))) return { ok: false, code: 'not_found' };
        reservation = await this.#state.reserve(reserveInput);
        if (reservation.status === 'unknown_session' || reservation.status === 'rate_limited') return { ok: false, code: 'not_found' };
      }
      if (reservation.status === 'restored') {
        // Live state was lost and rebuilt: only the store remembers sends from before that.
        const sent = await this.#directory.findSent(input.sessionId, input.userId, clientMsgId);
        if (sent) {
          await this.#state.adopt({ ...key, first: sent });
          return { ok: true, message: sent, duplicate: true };
        }
        reservation = await this.#state.reserve({ ...reserveInput, durableChecked: true });
        if (reservation.status === 'unknown_session' || reservation.status === 'restored' || reservation.status === 'rate_limited') return { ok: false, code: 'not_found' };
      }
      const allocated = reservation.status === 'reserved' ? { ...candidate, seq: reservation.seq } : reservation;
      const message = buildMessage(input, input.clientMsgId, allocated);
      if (reservation.status === 'duplicate' && reservation.committed) return { ok: true, message, duplicate: true };
      await this.#sealPending(reservation.pendingSeals ?? [], message);
      // A duplicate that is not committed yet is a retry of a send whose first attempt failed or is
      // still in flight: publishing again is safe (the queue de-duplicates by key), and it fills the seq.
      let outcome: PublishOutcome;
      try {
        outcome = await this.#queue.publish(message, input.headers);
      } catch (cause) {
        // Never written, so never in the queue: a fresh seq still at the head is given back whole,
        // as if the connection had been known down before the reservation.
        if (cause instanceof QueueUnavailableError && cause.unsent && reservation.status === 'reserved' && (await this.#release(message, key))) throw cause;
        if (!this.#queue.ready()) {
          await this.#holdSeal(message);
          this.#sealWhenBack(message, key);
          throw cause;
        }
        const landed = await this.#seal(message, key);
        if (landed) return { ok: true, message: landed, duplicate: false };
        throw cause;
      }
      if (outcome.duplicate && isSeqGap(outcome.first)) {
        // This attempt's seq was sealed meanwhile (an earlier attempt timed out): it holds nothing.
        await this.#state.forget({ ...key, id: message.id });
        throw new QueueUnavailableError(`the seq of message ${message.id} was sealed; send it again`);
      }
      if (outcome.duplicate && outcome.first.id !== message.id) {
        // The queue holds an earlier send of this key that live state had forgotten (not yet in the
        // store when the store was asked): that one is the answer, and this attempt's seq goes back.
        const unused = await this.#state.adopt({ ...key, first: outcome.first, unused: { id: message.id, seq: message.seq } });
        if (unused === 'kept') await this.#fillUnused(message);
        return { ok: true, message: outcome.first, duplicate: true };
      }
      await this.#commit(message);
      return { ok: true, message, duplicate: reservation.status === 'duplicate' };
    } catch (cause) {
      return { ok: false, code: 'unavailable', cause };
    }
  }

  /**
   * Seals of earlier seqs that another replica (or this one) is waiting to make once its queue is
   * back: made here first, under each failed message's own key as #seal does, so readers get the
   * gap (or the message, if it landed after all) before this send's later seq. A resend of the
   * message being sealed is not held behind its own seal: it fills the seq itself. A seal too old
   * to be matched against its message's key any more is only dropped.
   */
  async #sealPending(seals: readonly ChatMessage[], message: ChatMessage): Promise<void> {
    for (const failed of seals) {
      const failedKey = { sessionId: failed.sessionId, userId: failed.userId, clientMsgId: failed.clientMsgId ?? failed.id };
      // Only earlier seqs: the order of later ones is not this send's to keep.
      if (failed.seq >= message.seq) continue;
      if (!this.#queue.ready()) return;
      try {
        if (this.#now() - Date.parse(failed.timestamp) > SEAL_AFTER_OUTAGE_WITHIN_MS) await this.#state.clearSeal(failed.sessionId, failed.seq);
        else await this.#seal(failed, failedKey);
      } catch {
        // This send's seq is reserved already and must be published: the seal is left to the next send.
      }
    }
  }

  /**
   * Gives back the seq of a message refused unwritten. Sends refused in the same instant on several
   * replicas give theirs back in any order, and only the head can go: a lower one tries again for a
   * moment, while the queue is still down, so the ones above it can go first. Whatever stays is
   * sealed as any publish cut off.
   */
  async #release(message: ChatMessage, key: { sessionId: string; userId: string; clientMsgId: string }): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (await this.#state.release({ ...key, id: message.id, seq: message.seq })) return true;
      } catch {
        return false;
      }
      if (attempt >= RELEASE_ATTEMPTS || this.#queue.ready()) return false;
      await sleep(RELEASE_RETRY_MS, undefined, { ref: false });
    }
  }

  /** Records the pending seal in live state, where every replica's next reservation of the session finds it. */
  async #holdSeal(message: ChatMessage): Promise<void> {
    try {
      await this.#state.holdSeal(message);
    } catch {
      // Live state unreachable: this replica still seals it once its queue is back.
    }
  }

  /**
   * A publish that failed as the queue's connection dropped may still have reached the stream (one
   * on the wire in the instant of the cut), so its seq can never be given to another message. It is
   * sealed like a timed-out publish as soon as the queue is back (a resend meanwhile fills it
   * itself); within half the duplicate window, so that the seal is still matched against the
   * message's own key. Past that the seq stays open and readers skip it after a while.
   */
  #sealWhenBack(message: ChatMessage, key: { sessionId: string; userId: string; clientMsgId: string }): void {
    const deadline = this.#now() + SEAL_AFTER_OUTAGE_WITHIN_MS;
    const attempt = async (): Promise<void> => {
      while (!this.#queue.ready()) {
        if (this.#now() > deadline) return;
        await sleep(SEAL_RETRY_MS, undefined, { ref: false });
      }
      await this.#seal(message, key);
    };
    const sealing = sealKey(key.sessionId, key.userId, key.clientMsgId);
    this.#sealingKeys.add(sealing);
    const before = this.#pendingSeals.get(message.sessionId) ?? Promise.resolve();
    const sealed = before.then(attempt).catch(() => undefined);
    this.#pendingSeals.set(message.sessionId, sealed);
    void sealed.then(() => {
      this.#sealingKeys.delete(sealing);
      if (this.#pendingSeals.get(message.sessionId) === sealed) this.#pendingSeals.delete(message.sessionId);
    });
  }

  /**
   * A publish that timed out on a live connection may still land, so its seq cannot be reused; it is
   * sealed instead: a gap record for the seq is published under the message's own key, and the
   * queue stores exactly one of the two. If the message landed first it is durable and returned (to
   * be acked); otherwise the gap takes the seq, reaches readers like a message (so nobody waits for
   * the seq), and a resend of the message gets a new seq. If even the gap cannot be published, the
   * seq stays open and readers skip it after a while.
   */
  async #seal(message: ChatMessage, key: { sessionId: string; userId: string; clientMsgId: string }): Promise<ChatMessage | undefined> {
    const candidate = seqGap(message, randomUUID());
    let outcome: PublishOutcome;
    try {
      outcome = await this.#queue.publish(candidate, undefined, message);
    } catch {
      return undefined;
    }
    if (outcome.duplicate && !isSeqGap(outcome.first)) {
      const first = outcome.first;
      if (first.id !== message.id) {
        await this.#state.adopt({ ...key, first, unused: { id: message.id, seq: message.seq } });
        // Nothing else is coming for this seq: no reservation should try to seal it again.
        await this.#state.clearSeal(message.sessionId, message.seq);
        return first;
      }
      await this.#commit(first);
      return first;
    }
    // Sealed now, or by an earlier attempt of the same send.
    const gap = outcome.duplicate ? outcome.first : candidate;
    try {
      await this.#state.forget({ ...key, id: message.id });
      await this.#commit(gap);
    } catch {
      // Durable in the queue already: readers find it there, and the persister stores it.
    }
    return undefined;
  }

  /** A seq reserved for a repeat and not the head any more: a gap record takes it, so no reader waits for it. */
  async #fillUnused(message: ChatMessage): Promise<void> {
    const gap = seqGap(message, randomUUID());
    try {
      await this.#queue.publish(gap);
      await this.#commit(gap);
    } catch {
      // The seq stays open; readers skip it after a while.
    }
  }

  /** Commits in live state and fans out the first commit, in one step when live state publishes commits itself. */
  async #commit(message: ChatMessage): Promise<void> {
    if ((await this.#state.commit(message)) && this.#state.publishesCommits !== true) await this.#fanOut(message);
  }

  async #fanOut(message: ChatMessage): Promise<void> {
    try {
      await this.#bus.publish(message.sessionId, JSON.stringify(message));
    } catch {
      // Durable and in the recent list already: receivers that notice the gap fetch it from there.
    }
  }
}

function sealKey(sessionId: string, userId: string, clientMsgId: string): string {
  return `${sessionId}\u0000${userId}\u0000${clientMsgId}`;
}

function buildMessage(input: AcceptInput, clientMsgId: string | undefined, allocated: { id: string; seq: number; timestamp: string }): ChatMessage {
  return {
    type: 'message',
    id: allocated.id,
    sessionId: input.sessionId,
    seq: allocated.seq,
    userId: input.userId,
    // A display name comes from the token, not the sender; one the store cannot keep is left out, not refused.
    ...(input.userName === undefined || !isStorableText(input.userName) ? {} : { userName: input.userName }),
    body: input.body,
    metadata: input.metadata ?? {},
    timestamp: allocated.timestamp,
    ...(clientMsgId === undefined ? {} : { clientMsgId }),
  };
}
