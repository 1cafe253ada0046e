import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { GAP_USER_ID, isSeqGap, type ChatMessage } from '@chat/protocol';
import { MemoryHub } from './memory-bus.ts';
import { MemoryQueue } from './memory-queue.ts';
import { MemorySessionState } from './memory-state.ts';
import { MessageIntake } from './message-intake.ts';
import type { ChatStore, MessageQueue, PublishOutcome, QueueHeaders, QueueKeySource, Reservation, ReserveInput } from './ports.ts';
import { MemoryUserRateLimiter, type UserRateLimiter } from './user-rate-limiter.ts';
import { QueueUnavailableError } from './queue-unavailable-error.ts';
import { SessionDirectory } from './session-directory.ts';

/** A queue whose connection a test can drop, and whose next publishes can be made to fail. */
class FlakyQueue extends MemoryQueue {
  connected = true;
  /**
   * Fails the next publishes; `dropConnection` plays the connection going down before it fails,
   * `land` a publish that is stored although its PubAck never arrives (a timeout), `times` how many.
   */
  failNext: { dropConnection: boolean; land?: boolean; times?: number; unsent?: boolean } | undefined;

  override ready(): boolean {
    return this.connected && super.ready();
  }

  override async publish(message: ChatMessage, headers?: QueueHeaders, keyOf?: QueueKeySource): Promise<PublishOutcome> {
    const failure = this.failNext;
    if (failure === undefined) return super.publish(message, headers, keyOf);
    const times = (failure.times ?? 1) - 1;
    this.failNext = times > 0 ? { ...failure, times } : undefined;
    if (failure.dropConnection) this.connected = false;
    if (failure.unsent === true) throw new QueueUnavailableError('known down when it was to be written', { unsent: true });
    if (failure.land === true) await super.publish(message, headers, keyOf);
    throw new QueueUnavailableError('no PubAck');
  }
}

async function setUp() {
  const state = new MemorySessionState({ recentMessages: 100 });
  const queue = new FlakyQueue();
  const userId = randomUUID();
  const sessionId = randomUUID();
  await state.hydrate({ id: sessionId, title: null, members: [userId], metadata: {}, createdAt: new Date().toISOString(), closedAt: null }, 0);
  // Every session here is live already, so the store is never asked.
  const directory = new SessionDirectory({ state, queue, store: {} as ChatStore });
  const hub = new MemoryHub();
  const intake = new MessageIntake({ state, queue, bus: hub.bus(), directory });
  const seen: number[] = [];
  await hub.bus().subscribe(sessionId, (payload) => seen.push((JSON.parse(payload) as ChatMessage).seq));
  const send = (clientMsgId: string) => intake.accept({ sessionId, userId, clientMsgId, body: clientMsgId });
  return { state, queue, sessionId, send, fanned: () => [...seen] };
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('MessageIntake during a queue outage', () => {
  it('answers unavailable without reserving a seq while the queue is disconnected', async () => {
    const { state, queue, sessionId, send } = await setUp();
    queue.connected = false;
    expect(await send('a')).toMatchObject({ ok: false, code: 'unavailable' });
    expect(await state.head(sessionId)).toBe(0);
  });

  it('never gives the seq of a publish that failed as the connection dropped to another message, and seals it once the queue is back', async () => {
    const { state, queue, sessionId, send, fanned } = await setUp();
    await send('a');
    queue.failNext = { dropConnection: true };
    expect(await send('b')).toMatchObject({ ok: false, code: 'unavailable' });
    expect(await state.head(sessionId)).toBe(2);
    queue.connected = true;
    await waitUntil(async () => (await state.recent(sessionId, 1)).length === 1);
    expect(await state.recent(sessionId, 1)).toEqual([expect.objectContaining({ seq: 2, userId: GAP_USER_ID })]);
    expect(await send('c')).toMatchObject({ ok: true, message: { seq: 3 } });
    // Sent again, b takes a new seq: its first seq holds the gap.
    expect(await send('b')).toMatchObject({ ok: true, message: { seq: 4, clientMsgId: 'b' } });
    expect((await queue.range(sessionId, 0, 10, 10)).map((message) => message.seq)).toEqual([1, 2, 3, 4]);
    expect(fanned()).toEqual([1, 2, 3, 4]);
  });

  it('acks the resend of a message that reached the queue in the instant its connection dropped, and gives its seq to nobody else', async () => {
    const { state, queue, sessionId, send } = await setUp();
    await send('a');
    queue.failNext = { dropConnection: true, land: true };
    expect(await send('b')).toMatchObject({ ok: false, code: 'unavailable' });
    queue.connected = true;
    const [c, again] = await Promise.all([send('c'), send('b')]);
    expect(again).toMatchObject({ ok: true, message: { seq: 2, clientMsgId: 'b' } });
    expect(c).toMatchObject({ ok: true, message: { seq: 3, clientMsgId: 'c' } });
    await waitUntil(async () => (await state.recent(sessionId, 0)).length === 3);
    const queued = await queue.range(sessionId, 0, 10, 10);
    expect(queued.map((message) => [message.seq, message.clientMsgId])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
  });

  it('seals the seq of a publish that timed out on a live connection with a gap record, so no reader waits for it', async () => {
    const { state, queue, sessionId, send, fanned } = await setUp();
    queue.failNext = { dropConnection: false };
    expect(await send('a')).toMatchObject({ ok: false, code: 'unavailable' });
    const [gap] = await state.recent(sessionId, 0);
    expect(gap).toMatchObject({ seq: 1, userId: GAP_USER_ID, body: '', metadata: { gap: true } });
    expect(fanned()).toEqual([1]);
    expect(await queue.range(sessionId, 0, 10, 10)).toEqual([gap]);
    // Sent again, it takes the next seq and is stored beside the gap, not refused as its duplicate.
    expect(await send('a')).toMatchObject({ ok: true, message: { seq: 2, clientMsgId: 'a' } });
    expect((await queue.range(sessionId, 0, 10, 10)).map((message) => message.seq)).toEqual([1, 2]);
    expect(await send('a')).toMatchObject({ ok: true, duplicate: true, message: { seq: 2 } });
  });

  it('acks a message whose publish timed out but was stored: the seal finds it there', async () => {
    const { state, queue, sessionId, send, fanned } = await setUp();
    queue.failNext = { dropConnection: false, land: true };
    const result = await send('a');
    expect(result).toMatchObject({ ok: true, message: { seq: 1, clientMsgId: 'a' } });
    expect((await state.recent(sessionId, 0)).map((message) => message.clientMsgId)).toEqual(['a']);
    expect(fanned()).toEqual([1]);
    expect(await queue.range(sessionId, 0, 10, 10)).toHaveLength(1);
  });

  it('gives back the seq of a publish refused unwritten while it is the head: no seal, and the resend takes the same seq', async () => {
    const { state, queue, sessionId, send, fanned } = await setUp();
    await send('a');
    queue.failNext = { dropConnection: true, unsent: true };
    expect(await send('b')).toMatchObject({ ok: false, code: 'unavailable' });
    expect(await state.head(sessionId)).toBe(1);
    queue.connected = true;
    expect(await send('b')).toMatchObject({ ok: true, duplicate: false, message: { seq: 2, clientMsgId: 'b' } });
    expect((await queue.range(sessionId, 0, 10, 10)).map((message) => [message.seq, message.clientMsgId])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(fanned()).toEqual([1, 2]);
  });

  it('gives back every seq of sends refused unwritten in the same instant, whichever order they come back in', async () => {
    const { state, queue, sessionId, send } = await setUp();
    queue.failNext = { dropConnection: true, unsent: true, times: 2 };
    // a holds seq 1 under b's seq 2, and is refused first: it can go only after b.
    expect(await Promise.all([send('a'), send('b')])).toMatchObject([
      { ok: false, code: 'unavailable' },
      { ok: false, code: 'unavailable' },
    ]);
    expect(await state.head(sessionId)).toBe(0);
    queue.connected = true;
    expect(await send('b')).toMatchObject({ ok: true, message: { seq: 1 } });
    expect(await send('a')).toMatchObject({ ok: true, message: { seq: 2 } });
    expect(await state.recent(sessionId, 0)).toHaveLength(2);
  });

  it('seals the seq of a publish refused unwritten once another seq came after it, as any publish cut off', async () => {
    const { state, queue, sessionId, send } = await setUp();
    queue.failNext = { dropConnection: false, unsent: true };
    // b reserves seq 2 before a's refusal comes back, so a's seq 1 is no longer the head.
    const [a, b] = await Promise.all([send('a'), send('b')]);
    expect(a).toMatchObject({ ok: false, code: 'unavailable' });
    expect(b).toMatchObject({ ok: true, message: { seq: 2 } });
    await waitUntil(async () => (await state.recent(sessionId, 0)).length === 2);
    expect((await queue.range(sessionId, 0, 10, 10)).map((message) => [message.seq, message.userId === GAP_USER_ID ? 'gap' : message.clientMsgId])).toEqual([
      [1, 'gap'],
      [2, 'b'],
    ]);
    expect(await send('a')).toMatchObject({ ok: true, message: { seq: 3, clientMsgId: 'a' } });
  });

  it('leaves the seq open when even the gap record cannot be published', async () => {
    const { state, queue, sessionId, send } = await setUp();
    queue.failNext = { dropConnection: false, times: 2 };
    expect(await send('a')).toMatchObject({ ok: false, code: 'unavailable' });
    expect(await state.head(sessionId)).toBe(1);
    expect(await state.recent(sessionId, 0)).toEqual([]);
    // Sent again, it fills its own seq.
    expect(await send('a')).toMatchObject({ ok: true, message: { seq: 1 } });
  });
});

/** One replica's link to a queue shared by every replica: its own connection can drop. */
class ReplicaLink implements MessageQueue {
  connected = true;
  /** Fails the next publish as the connection drops; `land` stores it first (on the wire in the instant of the cut). */
  failNext: { land: boolean } | undefined;
  readonly #shared: MemoryQueue;

  constructor(shared: MemoryQueue) {
    this.#shared = shared;
  }

  ready(): boolean {
    return this.connected && this.#shared.ready();
  }

  async publish(message: ChatMessage, headers?: QueueHeaders, keyOf?: QueueKeySource): Promise<PublishOutcome> {
    if (!this.connected) throw new QueueUnavailableError('not connected');
    const failure = this.failNext;
    if (failure === undefined) return this.#shared.publish(message, headers, keyOf);
    this.failNext = undefined;
    this.connected = false;
    if (failure.land) await this.#shared.publish(message, headers, keyOf);
    throw new QueueUnavailableError('connection dropped before the PubAck');
  }

  lastSeq(sessionId: string): Promise<number> {
    return this.#shared.lastSeq(sessionId);
  }

  range(sessionId: string, afterSeq: number, beforeSeq: number, limit: number): Promise<ChatMessage[]> {
    return this.#shared.range(sessionId, afterSeq, beforeSeq, limit);
  }

  ping(): Promise<void> {
    return this.#shared.ping();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Two replicas over one live state, one queue and one bus, each with its own queue link. */
async function setUpReplicas() {
  const state = new MemorySessionState({ recentMessages: 100 });
  const shared = new MemoryQueue();
  const userId = randomUUID();
  const sessionId = randomUUID();
  await state.hydrate({ id: sessionId, title: null, members: [userId], metadata: {}, createdAt: new Date().toISOString(), closedAt: null }, 0);
  const hub = new MemoryHub();
  const replica = () => {
    const link = new ReplicaLink(shared);
    const intake = new MessageIntake({ state, queue: link, bus: hub.bus(), directory: new SessionDirectory({ state, queue: link, store: {} as ChatStore }) });
    return { link, send: (clientMsgId: string) => intake.accept({ sessionId, userId, clientMsgId, body: clientMsgId }) };
  };
  const fanned: ChatMessage[] = [];
  await hub.bus().subscribe(sessionId, (payload) => fanned.push(JSON.parse(payload) as ChatMessage));
  const stored = async () => (await shared.range(sessionId, 0, 100, 100)).map((message) => [message.seq, isSeqGap(message) ? 'gap' : message.clientMsgId]);
  return { state, sessionId, a: replica(), b: replica(), stored, fanned: () => fanned.map((message) => [message.seq, isSeqGap(message) ? 'gap' : message.clientMsgId]) };
}

describe('MessageIntake across replicas when one loses its queue', () => {
  it('seals the seq of a publish that failed on the other replica before publishing a later seq', async () => {
    const { a, b, stored, fanned } = await setUpReplicas();
    await a.send('a');
    a.link.failNext = { land: false };
    expect(await a.send('b')).toMatchObject({ ok: false, code: 'unavailable' });
    // Replica a stays cut; b's send takes the next seq and is fanned out after the gap for seq 2.
    expect(await b.send('c')).toMatchObject({ ok: true, message: { seq: 3 } });
    expect(fanned()).toEqual([
      [1, 'a'],
      [2, 'gap'],
      [3, 'c'],
    ]);
    // Back, a's own seal finds the seq settled: nothing is stored or fanned out twice.
    a.link.connected = true;
    expect(await a.send('d')).toMatchObject({ ok: true, message: { seq: 4 } });
    expect(await b.send('b')).toMatchObject({ ok: true, message: { seq: 5, clientMsgId: 'b' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stored()).toEqual([
      [1, 'a'],
      [2, 'gap'],
      [3, 'c'],
      [4, 'd'],
      [5, 'b'],
    ]);
    expect(fanned()).toEqual(await stored());
  });

  it('commits and acks a message that landed in the instant of the cut when the other replica seals its seq', async () => {
    const { a, b, stored, fanned } = await setUpReplicas();
    a.link.failNext = { land: true };
    expect(await a.send('a')).toMatchObject({ ok: false, code: 'unavailable' });
    expect(await b.send('b')).toMatchObject({ ok: true, message: { seq: 2 } });
    expect(fanned()).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    // The sender's resend is answered with the message that landed, on either replica.
    expect(await b.send('a')).toMatchObject({ ok: true, duplicate: true, message: { seq: 1, clientMsgId: 'a' } });
    a.link.connected = true;
    expect(await a.send('a')).toMatchObject({ ok: true, duplicate: true, message: { seq: 1, clientMsgId: 'a' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stored()).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(fanned()).toEqual(await stored());
  });

  it('does not hold a resend of the failed message behind its own seal on the other replica', async () => {
    const { a, b, stored, fanned } = await setUpReplicas();
    a.link.failNext = { land: false };
    expect(await a.send('a')).toMatchObject({ ok: false, code: 'unavailable' });
    expect(await b.send('a')).toMatchObject({ ok: true, message: { seq: 1, clientMsgId: 'a' } });
    // Filled by the resend, the seq has no seal pending any more: the next send seals nothing.
    expect(await b.send('b')).toMatchObject({ ok: true, message: { seq: 2 } });
    a.link.connected = true;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stored()).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(fanned()).toEqual(await stored());
  });
});

describe('MessageIntake after live state was lost', () => {
  it('answers a resend with the first copy from the queue, and fills the seq it reserved meanwhile with a gap record', async () => {
    const queue = new MemoryQueue();
    const userId = randomUUID();
    const session = { id: randomUUID(), title: null, members: [userId], metadata: {}, createdAt: new Date().toISOString(), closedAt: null };
    const store = { findSent: () => Promise.resolve(null) } as unknown as ChatStore;
    const before = new MemorySessionState({ recentMessages: 100 });
    await before.hydrate(session, 0);
    const first = new MessageIntake({ state: before, queue, bus: new MemoryHub().bus(), directory: new SessionDirectory({ state: before, queue, store }) });
    const sent = await first.accept({ sessionId: session.id, userId, clientMsgId: 'a', body: 'a' });
    await first.accept({ sessionId: session.id, userId, clientMsgId: 'b', body: 'b' });

    // Redis lost the session: live state is rebuilt with the queue's head, and knows no key.
    const after = new MemorySessionState({ recentMessages: 100 });
    await after.hydrate(session, await queue.lastSeq(session.id));
    const intake = new MessageIntake({ state: after, queue, bus: new MemoryHub().bus(), directory: new SessionDirectory({ state: after, queue, store }) });
    const [resend, fresh] = await Promise.all([
      intake.accept({ sessionId: session.id, userId, clientMsgId: 'a', body: 'a again' }),
      intake.accept({ sessionId: session.id, userId, clientMsgId: 'c', body: 'c' }),
    ]);
    expect(sent.ok && resend.ok && resend.message).toEqual(sent.ok && sent.message);
    expect(fresh).toMatchObject({ ok: true, message: { seq: 4 } });
    const queued = await queue.range(session.id, 0, 10, 10);
    expect(queued.map((message) => [message.seq, message.clientMsgId ?? (isSeqGap(message) ? 'gap' : '?')])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'gap'],
      [4, 'c'],
    ]);
    expect((await after.recent(session.id, 0)).map((message) => message.seq)).toEqual([3, 4]);
  });
});

describe('MessageIntake over a live state that publishes its commits', () => {
  /** Commits and, the first time only, publishes on the hub itself, as the Redis state does in one script. */
  class PublishingState extends MemorySessionState {
    readonly publishesCommits = true;
    readonly #hub: MemoryHub;

    constructor(hub: MemoryHub) {
      super({ recentMessages: 100 });
      this.#hub = hub;
    }

    override async commit(message: ChatMessage): Promise<boolean> {
      const first = await super.commit(message);
      if (first) await this.#hub.bus().publish(message.sessionId, JSON.stringify(message));
      return first;
    }
  }

  it('leaves the fan-out to the commit: every message and every seal reaches the bus once, and the intake publishes nothing', async () => {
    const hub = new MemoryHub();
    const state = new PublishingState(hub);
    const queue = new FlakyQueue();
    const userId = randomUUID();
    const sessionId = randomUUID();
    await state.hydrate({ id: sessionId, title: null, members: [userId], metadata: {}, createdAt: new Date().toISOString(), closedAt: null }, 0);
    const intakeBus = hub.bus();
    const intakePublishes: string[] = [];
    const publish = intakeBus.publish.bind(intakeBus);
    intakeBus.publish = (id, payload) => {
      intakePublishes.push(payload);
      return publish(id, payload);
    };
    const intake = new MessageIntake({ state, queue, bus: intakeBus, directory: new SessionDirectory({ state, queue, store: {} as ChatStore }) });
    const heard: ChatMessage[] = [];
    await hub.bus().subscribe(sessionId, (payload) => heard.push(JSON.parse(payload) as ChatMessage));
    const send = (clientMsgId: string) => intake.accept({ sessionId, userId, clientMsgId, body: clientMsgId });
    expect(await send('a')).toMatchObject({ ok: true, duplicate: false });
    // A resend of a committed message is answered from live state and fanned out no more.
    expect(await send('a')).toMatchObject({ ok: true, duplicate: true });
    // A timed-out publish that never landed: its seq is sealed by a gap record, fanned out in its place.
    queue.failNext = { dropConnection: false };
    expect(await send('b')).toMatchObject({ ok: false, code: 'unavailable' });
    expect(await send('c')).toMatchObject({ ok: true });
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard.map((message) => [message.seq, isSeqGap(message) ? 'gap' : message.body])).toEqual([
      [1, 'a'],
      [2, 'gap'],
      [3, 'c'],
    ]);
    expect(intakePublishes).toEqual([]);
  });
});

describe('MessageIntake with a send budget', () => {
  /** Takes budgets of its own limiter inside reserve(), as Redis does in the reserve script. */
  class BudgetingState extends MemorySessionState {
    readonly limiter = new MemoryUserRateLimiter();
    readonly budgeted: ReserveInput[] = [];

    takesBudgetsOf(limiter: UserRateLimiter): boolean {
      return limiter === this.limiter;
    }

    override async reserve(input: ReserveInput): Promise<Reservation> {
      if (input.budget !== undefined) {
        this.budgeted.push(input);
        const decision = await this.limiter.take(input.budget.key, input.budget);
        if (!decision.allowed) return { status: 'rate_limited', retryAfterMs: decision.retryAfterMs };
      }
      return super.reserve(input);
    }
  }

  async function budgeted(state: MemorySessionState) {
    const userId = randomUUID();
    const sessionId = randomUUID();
    await state.hydrate({ id: sessionId, title: null, members: [userId], metadata: {}, createdAt: new Date().toISOString(), closedAt: null }, 0);
    const queue = new MemoryQueue();
    const intake = new MessageIntake({ state, queue, bus: new MemoryHub().bus(), directory: new SessionDirectory({ state, queue, store: {} as ChatStore }) });
    const send = (clientMsgId: string, limiter: UserRateLimiter) => intake.accept({ sessionId, userId, clientMsgId, body: clientMsgId, budget: { limiter, key: `sends:${userId}`, perSec: 0.001, burst: 2 } });
    return { sessionId, queue, send };
  }

  it('hands the budget to a live state that takes it in the reservation; a refusal reserves nothing and publishes nothing', async () => {
    const state = new BudgetingState({ recentMessages: 10 });
    const { sessionId, queue, send } = await budgeted(state);
    expect(await send('a', state.limiter)).toMatchObject({ ok: true, message: { seq: 1 } });
    expect(await send('b', state.limiter)).toMatchObject({ ok: true, message: { seq: 2 } });
    const refused = await send('c', state.limiter);
    expect(refused).toMatchObject({ ok: false, code: 'rate_limited' });
    expect(!refused.ok && refused.code === 'rate_limited' && refused.retryAfterMs > 0).toBe(true);
    expect(state.budgeted.map((input) => input.clientMsgId)).toEqual(['a', 'b', 'c']);
    expect(await state.head(sessionId)).toBe(2);
    expect(await queue.lastSeq(sessionId)).toBe(2);
  });

  it('takes the budget of any other limiter itself, before the reservation', async () => {
    const state = new BudgetingState({ recentMessages: 10 });
    const { sessionId, send } = await budgeted(state);
    const own = new MemoryUserRateLimiter();
    expect(await send('a', own)).toMatchObject({ ok: true });
    expect(await send('b', own)).toMatchObject({ ok: true });
    expect(await send('c', own)).toMatchObject({ ok: false, code: 'rate_limited' });
    expect(state.budgeted).toEqual([]);
    expect(await state.head(sessionId)).toBe(2);
  });
});
