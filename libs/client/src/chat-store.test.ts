import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { ChatMessage } from '@chat/protocol';
import { ChatStore } from './chat-store.ts';

const sessionId = randomUUID();
const alice = randomUUID();
const bob = randomUUID();

function message(seq: number, userId = bob, extra: Partial<ChatMessage> = {}): ChatMessage {
  return { type: 'message', id: randomUUID(), sessionId, seq, userId, body: `m${seq}`, metadata: {}, timestamp: new Date().toISOString(), ...extra };
}

describe('ChatStore', () => {
  it('keeps messages in seq order whatever order they arrive in', () => {
    const store = new ChatStore();
    store.addMessages([message(3), message(1)]);
    store.addMessages([message(2)]);
    expect(store.getState().messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect([store.minSeq(), store.maxSeq()]).toEqual([1, 3]);
  });

  it('ignores a message whose seq or id it already holds', () => {
    const store = new ChatStore();
    const first = message(1);
    expect(store.addMessages([first, message(1)])).toHaveLength(1);
    expect(store.addMessages([{ ...first, seq: 9 }])).toEqual([]);
    expect(store.getState().messages).toEqual([first]);
  });

  it('turns an acknowledged send into a message and drops it from the outgoing list', () => {
    const store = new ChatStore();
    store.setUser(alice);
    store.addOutgoing({ clientMsgId: 'c1', body: 'hi', metadata: undefined, createdAt: new Date().toISOString(), status: 'pending' });
    const id = randomUUID();
    const confirmed = store.confirm({ type: 'ack', clientMsgId: 'c1', id, seq: 4, timestamp: new Date().toISOString() }, sessionId);
    expect(confirmed).toMatchObject({ id, seq: 4, userId: alice, body: 'hi', sessionId });
    expect(store.getState().outgoing).toEqual([]);
  });

  it('drops my outgoing copy when the fan-out copy of the same send arrives first', () => {
    const store = new ChatStore();
    store.setUser(alice);
    store.addOutgoing({ clientMsgId: 'c2', body: 'hi', metadata: undefined, createdAt: new Date().toISOString(), status: 'pending' });
    store.addMessages([message(1, alice, { clientMsgId: 'c2' })]);
    expect(store.getState().outgoing).toEqual([]);
  });

  it('marks a refused send as failed with its error', () => {
    const store = new ChatStore();
    store.addOutgoing({ clientMsgId: 'c3', body: 'x', metadata: undefined, createdAt: new Date().toISOString(), status: 'pending' });
    store.fail('c3', { code: 'rate_limited', message: 'slow down' });
    expect(store.getState().outgoing).toMatchObject([{ status: 'failed', error: { code: 'rate_limited' } }]);
  });

  it('tracks presence, names and typing, and lets typing lapse', () => {
    const store = new ChatStore();
    store.setPresence([alice, alice], { [alice]: 'Alice' });
    store.join(bob, 'Bob');
    store.typing(bob, 1_000);
    expect(store.getState()).toMatchObject({ online: [alice, bob], names: { [alice]: 'Alice', [bob]: 'Bob' }, typing: { [bob]: 1_000 } });
    store.pruneTyping(999);
    expect(store.getState().typing).toEqual({ [bob]: 1_000 });
    store.pruneTyping(1_000);
    expect(store.getState().typing).toEqual({});
    store.typing(bob, 5_000);
    store.leave(bob);
    expect(store.getState()).toMatchObject({ online: [alice], typing: {} });
  });

  it('stops showing someone as typing once their message arrives', () => {
    const store = new ChatStore();
    store.typing(bob, Date.now() + 10_000);
    store.typing(alice, Date.now() + 10_000);
    store.addMessages([message(1, bob)]);
    expect(Object.keys(store.getState().typing)).toEqual([alice]);
  });

  it('notifies subscribers with each new state until they unsubscribe', () => {
    const store = new ChatStore();
    const seen: number[] = [];
    const off = store.subscribe((state) => seen.push(state.messages.length));
    store.addMessages([message(1)]);
    off();
    store.addMessages([message(2)]);
    expect(seen).toEqual([1]);
  });

  it('moves read cursors only forward, whatever order history and live events arrive in', () => {
    const store = new ChatStore();
    store.setReads([{ userId: alice, seq: 5 }, { userId: bob, seq: 2 }]);
    const before = store.getState();
    store.setReads([{ userId: alice, seq: 3 }]);
    expect(store.getState()).toBe(before);
    store.setReads([{ userId: bob, seq: 4 }]);
    expect(store.getState().reads).toEqual({ [alice]: 5, [bob]: 4 });
  });

  it('keeps the newest analysis status', () => {
    const store = new ChatStore();
    const running = { sessionId, state: 'running' as const, progress: 40, updatedAt: '2026-12-01T10:00:01.000Z' };
    store.setAnalysisStatus(running);
    store.setAnalysisStatus({ sessionId, state: 'queued', updatedAt: '2026-12-01T10:00:00.000Z' });
    expect(store.getState().analysisStatus).toEqual(running);
    store.setAnalysisStatus({ sessionId, state: 'done', updatedAt: '2026-12-01T10:00:02.000Z' });
    expect(store.getState().analysisStatus?.state).toBe('done');
  });
});
