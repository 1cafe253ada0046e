import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { MemoryBus, MemoryHub, type SessionState } from '@chat/core';
import { chatMetrics } from '@chat/telemetry';
import { silentLogger } from './gateway-logger.ts';
import { LocalSessions, type SessionFollower, type SessionMember } from './local-sessions.ts';

const member: SessionMember = { kind: 'chat', userId: randomUUID(), receiveMessage: () => undefined, receiveEvent: () => undefined, sessionClosed: () => undefined, memberRemoved: () => undefined };

/** A member that records which control events reached it. */
function recordingMember(kind: 'chat' | 'status', userId: string): SessionMember & { removed: number; closed: number } {
  const recorded = { removed: 0, closed: 0 };
  return Object.assign(recorded, {
    kind,
    userId,
    receiveMessage: () => undefined,
    receiveEvent: () => undefined,
    sessionClosed: () => void (recorded.closed += 1),
    memberRemoved: () => void (recorded.removed += 1),
  });
}

/** Live state that answers `head` a tick later and remembers how many reads were in flight at once. */
function countingState(): { state: SessionState; reads: () => number; mostAtOnce: () => number } {
  let inFlight = 0;
  let most = 0;
  let reads = 0;
  const head = async (): Promise<number> => {
    inFlight += 1;
    reads += 1;
    most = Math.max(most, inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    inFlight -= 1;
    return 0;
  };
  return { state: { head } as unknown as SessionState, reads: () => reads, mostAtOnce: () => most };
}

describe('the tail check over local sessions', () => {
  it('reads every session head, but never more than 200 at once', async () => {
    const counting = countingState();
    const sessions = new LocalSessions({ bus: new MemoryBus(new MemoryHub()), state: counting.state, timing: { gapFillMs: 300, gapSkipMs: 5_000 }, logger: silentLogger, metrics: chatMetrics() });
    for (let i = 0; i < 450; i++) await sessions.attach(randomUUID(), member);
    const readsBefore = counting.reads();
    await sessions.checkTails();
    expect(counting.reads() - readsBefore).toBe(450);
    expect(counting.mostAtOnce()).toBe(200);
  });
});

describe('a member_removed event on the bus', () => {
  it('reaches the removed user\'s chat and status sockets in that session, and nobody else\'s', async () => {
    const hub = new MemoryHub();
    const state = { head: () => Promise.resolve(0) } as unknown as SessionState;
    const sessions = new LocalSessions({ bus: hub.bus(), state, timing: { gapFillMs: 300, gapSkipMs: 5_000 }, logger: silentLogger, metrics: chatMetrics() });
    const [sessionId, otherSession, removed, stays] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const removedChat = recordingMember('chat', removed);
    const removedStatus = recordingMember('status', removed);
    const staying = recordingMember('chat', stays);
    const elsewhere = recordingMember('chat', removed);
    await sessions.attach(sessionId, removedChat);
    await sessions.attach(sessionId, removedStatus);
    await sessions.attach(sessionId, staying);
    await sessions.attach(otherSession, elsewhere);
    await hub.bus().publish(sessionId, JSON.stringify({ type: 'member_removed', userId: removed }));
    await new Promise((resolve) => setImmediate(resolve));
    expect([removedChat.removed, removedStatus.removed, staying.removed, elsewhere.removed]).toEqual([1, 1, 0, 0]);
    expect(removedChat.closed + staying.closed).toBe(0);
  });
});

describe('feeds following a session', () => {
  function recordingFollower(userId: string): SessionFollower & { summaries: string[]; reads: number[]; removed: number } {
    const recorded = { summaries: [] as string[], reads: [] as number[], removed: 0 };
    return Object.assign(recorded, {
      userId,
      receiveSummary: (frame: Buffer) => void recorded.summaries.push(frame.toString()),
      readMoved: (seq: number) => void recorded.reads.push(seq),
      receiveStatus: () => undefined,
      sessionClosed: () => undefined,
      memberRemoved: () => void (recorded.removed += 1),
    });
  }

  it('share one summary frame per message, hear only their own reads, and keep the subscription until the last one goes', async () => {
    const hub = new MemoryHub();
    const bus = hub.bus();
    const state = { head: () => Promise.resolve(0) } as unknown as SessionState;
    const sessions = new LocalSessions({ bus, state, timing: { gapFillMs: 300, gapSkipMs: 5_000 }, logger: silentLogger, metrics: chatMetrics() });
    const [sessionId, alice, bob] = [randomUUID(), randomUUID(), randomUUID()];
    const aliceFeed = recordingFollower(alice);
    const bobFeed = recordingFollower(bob);
    await sessions.follow(sessionId, aliceFeed);
    await sessions.follow(sessionId, bobFeed);
    const message = { type: 'message', id: randomUUID(), sessionId, seq: 1, userId: bob, body: 'b'.repeat(500), metadata: { kind: 'note' }, timestamp: new Date().toISOString() };
    const publisher = hub.bus();
    await publisher.publish(sessionId, JSON.stringify(message));
    await publisher.publish(sessionId, JSON.stringify({ type: 'read', userId: alice, seq: 1 }));
    await publisher.publish(sessionId, JSON.stringify({ type: 'member_removed', userId: bob }));
    await new Promise((resolve) => setImmediate(resolve));

    expect(aliceFeed.summaries).toEqual(bobFeed.summaries);
    expect(JSON.parse(aliceFeed.summaries[0] ?? '{}')).toEqual({ type: 'feed_message', sessionId, seq: 1, userId: bob, timestamp: message.timestamp, preview: 'b'.repeat(140), kind: 'note' });
    expect([aliceFeed.reads, bobFeed.reads]).toEqual([[1], []]);
    expect([aliceFeed.removed, bobFeed.removed]).toEqual([0, 1]);

    sessions.unfollow(sessionId, aliceFeed);
    expect(sessions.sessionIds()).toEqual([sessionId]);
    sessions.unfollow(sessionId, bobFeed);
    expect(sessions.sessionIds()).toEqual([]);
  });
});
