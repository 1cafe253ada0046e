import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { ChatMessage } from '@chat/protocol';
import { MemoryHub } from './memory-bus.ts';
import { MemoryQueue } from './memory-queue.ts';
import { MemorySessionState } from './memory-state.ts';
import { MessageIntake } from './message-intake.ts';
import type { ChatStore, PublishOutcome } from './ports.ts';
import { QueueUnavailableError } from './queue-unavailable-error.ts';
import { SessionDirectory } from './session-directory.ts';

/** A queue whose connection a test can drop, and whose next publish can be made to fail. */
class FlakyQueue extends MemoryQueue {
  connected = true;
  /** Fails the next publish; `dropConnection` plays the connection going down before it fails. */
  failNext: { dropConnection: boolean } | undefined;

  override ready(): boolean {
    return this.connected && super.ready();
  }

  override publish(message: ChatMessage): Promise<PublishOutcome> {
    const failure = this.failNext;
    if (failure === undefined) return super.publish(message);
    this.failNext = undefined;
    if (failure.dropConnection) this.connected = false;
    return Promise.reject(new QueueUnavailableError('no PubAck'));
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
  const intake = new MessageIntake({ state, queue, bus: new MemoryHub().bus(), directory });
  const send = (clientMsgId: string) => intake.accept({ sessionId, userId, clientMsgId, body: clientMsgId });
  return { state, queue, sessionId, send };
}

describe('MessageIntake during a queue outage', () => {
  it('answers unavailable without reserving a seq while the queue is disconnected', async () => {
    const { state, queue, sessionId, send } = await setUp();
    queue.connected = false;
    expect(await send('a')).toMatchObject({ ok: false, code: 'unavailable' });
    expect(await state.head(sessionId)).toBe(0);
  });

  it('gives back the seq of a publish that failed as the connection dropped', async () => {
    const { state, queue, sessionId, send } = await setUp();
    await send('a');
    queue.failNext = { dropConnection: true };
    expect(await send('b')).toMatchObject({ ok: false, code: 'unavailable' });
    expect(await state.head(sessionId)).toBe(1);
    queue.connected = true;
    expect(await send('c')).toMatchObject({ ok: true, message: { seq: 2 } });
  });

  it('keeps the seq of a publish that timed out on a live connection, since it may still land', async () => {
    const { state, queue, sessionId, send } = await setUp();
    queue.failNext = { dropConnection: false };
    expect(await send('a')).toMatchObject({ ok: false, code: 'unavailable' });
    expect(await state.head(sessionId)).toBe(1);
    // Sent again, it fills its own seq.
    expect(await send('a')).toMatchObject({ ok: true, message: { seq: 1 } });
  });
});
