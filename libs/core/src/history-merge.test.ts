import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { HistoryPage, HistoryRange } from './ports.ts';
import type { ChatMessage } from '@chat/protocol';
import { historyMessage } from './history-fixture.ts';
import { liveFloor, mergeHistory } from './history-merge.ts';

const sessionId = randomUUID();
const message = (seq: number, origin = 'store'): ChatMessage => historyMessage(sessionId, seq, origin);
const range = (from: number, to: number, origin?: string) => Array.from({ length: to - from + 1 }, (_, i) => message(from + i, origin));

/** What a store holding `persisted` would answer, as the KyselyChatStore does. */
function storePage(persisted: ChatMessage[], query: HistoryRange): HistoryPage {
  const inRange = persisted.filter((m) => (query.after === undefined || m.seq > query.after) && (query.before === undefined || m.seq < query.before));
  const page = query.after === undefined ? inRange.slice(-query.limit) : inRange.slice(0, query.limit);
  return { messages: page, hasMore: inRange.length > query.limit };
}

/** As the route does it: the store's page first, then the live list above the floor it allows. */
function merged(persisted: ChatMessage[], live: ChatMessage[], query: HistoryRange) {
  const stored = storePage(persisted, query);
  const page = mergeHistory(stored, live.filter((m) => m.seq > liveFloor(stored, query)), query);
  return { seqs: page.messages.map((m) => m.seq), hasMore: page.hasMore };
}

describe('mergeHistory', () => {
  // Persisted 1..10; 9..14 are in the live list; 11..14 are acknowledged but not yet persisted.
  const persisted = range(1, 10);
  const live = range(9, 14, 'live');

  it('gives the latest messages across the boundary, with older ones beyond', () => {
    expect(merged(persisted, live, { limit: 5 })).toEqual({ seqs: [10, 11, 12, 13, 14], hasMore: true });
    expect(merged(persisted, live, { limit: 14 })).toEqual({ seqs: range(1, 14).map((m) => m.seq), hasMore: false });
    expect(merged(persisted, live, { limit: 20 }).hasMore).toBe(false);
  });

  it('scrolls back before a seq, from the live list into the store', () => {
    expect(merged(persisted, live, { limit: 3, before: 13 })).toEqual({ seqs: [10, 11, 12], hasMore: true });
    expect(merged(persisted, live, { limit: 3, before: 4 })).toEqual({ seqs: [1, 2, 3], hasMore: false });
    expect(merged(persisted, live, { limit: 3, before: 5 })).toEqual({ seqs: [2, 3, 4], hasMore: true });
  });

  it('catches up after a seq, from the store into the live list', () => {
    expect(merged(persisted, live, { limit: 3, after: 8 })).toEqual({ seqs: [9, 10, 11], hasMore: true });
    expect(merged(persisted, live, { limit: 6, after: 8 })).toEqual({ seqs: [9, 10, 11, 12, 13, 14], hasMore: false });
    expect(merged(persisted, live, { limit: 3, after: 11 })).toEqual({ seqs: [12, 13, 14], hasMore: false });
    expect(merged(persisted, live, { limit: 3, after: 14 })).toEqual({ seqs: [], hasMore: false });
  });

  it('lists a message held by both once, in the stored form', () => {
    const page = mergeHistory(storePage(persisted, { limit: 3, after: 8 }), live, { limit: 3, after: 8 });
    expect(page.messages.map((m) => m.body)).toEqual(['store 9', 'store 10', 'live 11']);
  });

  it('trusts the store for more in that direction when the live list adds nothing', () => {
    expect(merged(range(1, 10), [], { limit: 4 })).toEqual({ seqs: [7, 8, 9, 10], hasMore: true });
    expect(merged(range(1, 10), [], { limit: 4, after: 2 })).toEqual({ seqs: [3, 4, 5, 6], hasMore: true });
  });

  it('reads only the live messages newer than a full store page that has more behind it', () => {
    expect(liveFloor(storePage(range(1, 10), { limit: 4 }), { limit: 4 })).toBe(6);
    expect(liveFloor(storePage(range(1, 10), { limit: 4, before: 8 }), { limit: 4, before: 8 })).toBe(3);
    // Not full, or nothing behind it: older live messages may still belong in the page or in hasMore.
    expect(liveFloor(storePage(range(1, 4), { limit: 4 }), { limit: 4 })).toBe(0);
    expect(liveFloor(storePage(range(1, 3), { limit: 4 }), { limit: 4 })).toBe(0);
    expect(liveFloor(storePage(range(1, 10), { limit: 4, after: 2 }), { limit: 4, after: 2 })).toBe(2);
  });

  it('counts an unpersisted message older than the stored ones in hasMore', () => {
    // 2 is acknowledged but not written, while 3..6 are.
    const persisted = [message(1), ...range(3, 6)];
    expect(merged(persisted, [message(2, 'live')], { limit: 4 })).toEqual({ seqs: [3, 4, 5, 6], hasMore: true });
    expect(merged(persisted, [message(2, 'live')], { limit: 5 })).toEqual({ seqs: [2, 3, 4, 5, 6], hasMore: true });
  });

  it('pages a session that has only live messages', () => {
    expect(merged([], range(1, 4, 'live'), { limit: 2 })).toEqual({ seqs: [3, 4], hasMore: true });
    expect(merged([], range(1, 4, 'live'), { limit: 2, after: 2 })).toEqual({ seqs: [3, 4], hasMore: false });
    expect(merged([], range(1, 4, 'live'), { limit: 2, before: 3 })).toEqual({ seqs: [1, 2], hasMore: false });
  });
});
