import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { ChatMessage } from '@chat/protocol';
import { historyMessage } from './history-fixture.ts';
import { HistoryReader, type HistorySourceError, type HistorySources } from './history-reader.ts';
import type { HistoryRange } from './ports.ts';

const sessionId = randomUUID();
const message = (seq: number, origin: string): ChatMessage => historyMessage(sessionId, seq, origin);
const span = (from: number, to: number, origin: string) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => message(from + i, origin));
const seqsOf = (messages: readonly ChatMessage[]) => messages.map((m) => m.seq);

interface Tiers {
  stored: ChatMessage[];
  recent: ChatMessage[];
  queued: ChatMessage[];
}

/** Sources over three lists, answering as the store, the recent list and the queue do; `calls` names what was read. */
function sourcesOf(tiers: Tiers, failing: readonly string[] = []) {
  const calls: string[] = [];
  const answer = <T>(name: string, value: T): Promise<T> => {
    calls.push(name);
    return failing.includes(name) ? Promise.reject(new Error(`${name} is down`)) : Promise.resolve(value);
  };
  const sources: HistorySources = {
    store: {
      history: (_id, query: HistoryRange) => {
        const inRange = tiers.stored.filter((m) => (query.after === undefined || m.seq > query.after) && (query.before === undefined || m.seq < query.before));
        const messages = query.after === undefined ? inRange.slice(-query.limit) : inRange.slice(0, query.limit);
        return answer('store', { messages, hasMore: inRange.length > query.limit });
      },
    },
    state: { recent: (_id, afterSeq) => answer('recent', tiers.recent.filter((m) => m.seq > afterSeq)) },
    queue: {
      range: (_id, afterSeq, beforeSeq, limit) => answer('queue', tiers.queued.filter((m) => m.seq > afterSeq && m.seq < beforeSeq).slice(0, limit)),
      lastSeq: () => answer('lastSeq', tiers.queued.at(-1)?.seq ?? 0),
    },
  };
  return { sources, calls };
}

describe('HistoryReader', () => {
  // Stored 1..4; the recent list holds 9..12; the queue holds everything acknowledged, 1..12.
  const tiers: Tiers = { stored: span(1, 4, 'store'), recent: span(9, 12, 'live'), queued: span(1, 12, 'queue') };

  it('joins the store, the recent list and the queue into one page, preferring the stored copy', async () => {
    const reader = new HistoryReader(sourcesOf(tiers).sources);
    const page = await reader.page(sessionId, { limit: 20, after: 0 }, { open: true });
    expect(seqsOf(page.messages)).toEqual(span(1, 12, '').map((m) => m.seq));
    expect(page.messages.map((m) => m.body.split(' ')[0])).toEqual([...Array<string>(4).fill('store'), ...Array<string>(4).fill('queue'), ...Array<string>(4).fill('live')]);
    expect(page.hasMore).toBe(false);
    await expect(reader.page(sessionId, { limit: 3 }, { open: true })).resolves.toEqual({ messages: span(10, 12, 'live'), hasMore: true });
  });

  it('reads the queue on up to a seq the caller knows exists, as far as the page reaches', async () => {
    const { sources } = sourcesOf({ ...tiers, recent: [] });
    const page = await new HistoryReader(sources).page(sessionId, { limit: 6, after: 2 }, { open: true, newestKnown: 12 });
    expect(seqsOf(page.messages)).toEqual([3, 4, 5, 6, 7, 8]);
    // 9..12 exist too, though only the queue holds them and this page did not read them.
    expect(page.hasMore).toBe(true);
  });

  it('reads no live list for a closed session, and the queue up to its last seq', async () => {
    const { sources, calls } = sourcesOf(tiers);
    const page = await new HistoryReader(sources).page(sessionId, { limit: 50 }, { open: false });
    expect(seqsOf(page.messages)).toEqual(span(1, 12, '').map((m) => m.seq));
    expect(calls).not.toContain('recent');
  });

  it('reads only the store while it fills a catch-up page with consecutive seqs and has more', async () => {
    const { sources, calls } = sourcesOf(tiers);
    const page = await new HistoryReader(sources).page(sessionId, { limit: 2, after: 1 }, { open: true });
    expect(page).toEqual({ messages: span(2, 3, 'store'), hasMore: true });
    expect(calls).toEqual(['store']);
  });

  it('reads only the store while it fills a page scrolling back with consecutive seqs up to `before` and has more', async () => {
    const { sources, calls } = sourcesOf(tiers);
    const page = await new HistoryReader(sources).page(sessionId, { limit: 2, before: 5 }, { open: true });
    expect(page).toEqual({ messages: span(3, 4, 'store'), hasMore: true });
    expect(calls).toEqual(['store']);
  });

  it('still reads the live list and the queue scrolling back when the stored page stops short of `before` or has nothing older', async () => {
    for (const range of [{ limit: 2, before: 6 }, { limit: 4, before: 5 }]) {
      const { sources, calls } = sourcesOf(tiers);
      await new HistoryReader(sources).page(sessionId, range, { open: true });
      expect(calls).toContain('recent');
    }
  });

  it('fails naming the source that failed, or reports it and reads the others', async () => {
    for (const source of ['store', 'recent', 'queue'] as const) {
      const { sources } = sourcesOf(tiers, [source]);
      const reader = new HistoryReader(sources);
      await expect(reader.page(sessionId, { limit: 20, after: 0 }, { open: true })).rejects.toMatchObject({ name: 'HistorySourceError', source });
      const reported: HistorySourceError[] = [];
      const page = await reader.page(sessionId, { limit: 20, after: 0 }, { open: true, newestKnown: 12, onSourceError: (error) => reported.push(error) });
      expect(reported.map((error) => error.source)).toEqual([source]);
      expect(reported[0]?.cause).toEqual(new Error(`${source} is down`));
      expect(page.messages.length).toBeGreaterThan(0);
    }
  });

  it('finds one message by seq and id wherever it is, and nothing for another id', async () => {
    const reader = new HistoryReader(sourcesOf(tiers).sources);
    await expect(reader.message(sessionId, 2, message(2, '').id)).resolves.toEqual(message(2, 'store'));
    await expect(reader.message(sessionId, 6, message(6, '').id)).resolves.toEqual(message(6, 'queue'));
    await expect(reader.message(sessionId, 11, message(11, '').id)).resolves.toEqual(message(11, 'live'));
    await expect(reader.message(sessionId, 11, randomUUID())).resolves.toBeUndefined();
  });

  it('finds a message only the queue holds when live state was lost and the store has nothing yet', async () => {
    const reader = new HistoryReader(sourcesOf({ stored: [], recent: [], queued: [message(1, 'queue')] }).sources);
    await expect(reader.message(sessionId, 1, message(1, '').id)).resolves.toEqual(message(1, 'queue'));
  });

  it('gives every acknowledged seq of a catch-up once and in order, however the tiers split them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 15 }), async (head, persistedUpTo, recentFrom, limit) => {
        const reader = new HistoryReader(sourcesOf({ stored: span(1, Math.min(head, persistedUpTo), 'store'), recent: span(Math.max(1, recentFrom), head, 'live'), queued: span(1, head, 'queue') }).sources);
        const seen: number[] = [];
        for (let after = 0, rounds = 0; after < head && rounds <= head; rounds += 1) {
          const page = await reader.page(sessionId, { after, limit }, { open: true, newestKnown: head });
          seen.push(...seqsOf(page.messages));
          after = page.messages.at(-1)?.seq ?? after;
        }
        expect(seen).toEqual(span(1, head, '').map((m) => m.seq));
      }),
    );
  });

  it('gives the `limit` newest acknowledged seqs below `before` scrolling back, the stored copy where there is one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 15 }), fc.integer({ min: 1, max: 45 }), async (head, persistedUpTo, recentFrom, limit, before) => {
        const reader = new HistoryReader(sourcesOf({ stored: span(1, Math.min(head, persistedUpTo), 'store'), recent: span(Math.max(1, recentFrom), head, 'live'), queued: span(1, head, 'queue') }).sources);
        const page = await reader.page(sessionId, { before, limit }, { open: true, newestKnown: head });
        const top = Math.min(before - 1, head);
        const floor = Math.max(1, top - limit + 1);
        expect(seqsOf(page.messages)).toEqual(top < 1 ? [] : span(floor, top, '').map((m) => m.seq));
        for (const m of page.messages) if (m.seq <= persistedUpTo) expect(m.body.startsWith('store')).toBe(true);
      }),
    );
  });

  /** Seqs 1..N, each held by at least one of the store, the recent list and the queue (bit 1, 2, 4). */
  const splitTiers = fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 30 }).map((holders) => {
    const held = (bit: number, origin: string) => holders.flatMap((h, i) => ((h & bit) === 0 ? [] : [message(i + 1, origin)]));
    return { head: holders.length, tiers: { stored: held(1, 'store'), recent: held(2, 'live'), queued: held(4, 'queue') } };
  });

  it('gives the `limit` seqs next to the cursor, and says whether more lie beyond them, however the sources split the seqs', async () => {
    const range = fc.record({ limit: fc.integer({ min: 1, max: 10 }), cursor: fc.integer({ min: 0, max: 32 }), forwards: fc.boolean(), open: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(splitTiers, range, async ({ head, tiers }, { limit, cursor, forwards, open }) => {
        // A closed session has no recent list: what it held is read from the queue, up to the queue's last seq.
        const closed = { stored: tiers.stored, recent: [], queued: [...tiers.queued, ...tiers.recent.filter((m) => !tiers.queued.some((q) => q.seq === m.seq))].sort((a, b) => a.seq - b.seq) };
        const reader = new HistoryReader(sourcesOf(open ? tiers : closed).sources);
        const page = await reader.page(sessionId, forwards ? { after: cursor, limit } : { before: cursor + 1, limit }, open ? { open, newestKnown: head } : { open });
        const all = span(1, head, '').map((m) => m.seq);
        const beyondCursor = forwards ? all.filter((seq) => seq > cursor) : all.filter((seq) => seq <= cursor);
        expect(seqsOf(page.messages)).toEqual(forwards ? beyondCursor.slice(0, limit) : beyondCursor.slice(-limit));
        expect(page.hasMore).toBe(beyondCursor.length > limit);
      }),
      // Failing splits are a small share of all: enough runs that one is met every time.
      { numRuns: 2000 },
    );
  });

  it('says more lie beyond a page when only the queue holds them', async () => {
    // Scrolling back: the store holds 2..9 (the persister wrote 1 late), only the queue still has 1.
    const older = new HistoryReader(sourcesOf({ stored: span(2, 9, 'store'), recent: [], queued: [message(1, 'queue')] }).sources);
    await expect(older.page(sessionId, { before: 10, limit: 8 }, { open: true, newestKnown: 9 })).resolves.toEqual({ messages: span(2, 9, 'store'), hasMore: true });
    // Scrolling back: nothing written yet; the recent list holds 9..12, the queue everything.
    const unwritten = new HistoryReader(sourcesOf({ stored: [], recent: span(9, 12, 'live'), queued: span(1, 12, 'queue') }).sources);
    await expect(unwritten.page(sessionId, { before: 9, limit: 4 }, { open: true })).resolves.toEqual({ messages: span(5, 8, 'queue'), hasMore: true });
    await expect(unwritten.page(sessionId, { before: 5, limit: 4 }, { open: true })).resolves.toEqual({ messages: span(1, 4, 'queue'), hasMore: false });
    // Catching up: the store holds 1..9, only the queue has 10, known to exist.
    const newer = new HistoryReader(sourcesOf({ stored: span(1, 9, 'store'), recent: [], queued: [message(10, 'queue')] }).sources);
    await expect(newer.page(sessionId, { after: 0, limit: 9 }, { open: true, newestKnown: 10 })).resolves.toEqual({ messages: span(1, 9, 'store'), hasMore: true });
    await expect(newer.page(sessionId, { after: 0, limit: 10 }, { open: true, newestKnown: 10 })).resolves.toMatchObject({ hasMore: false });
  });
});
