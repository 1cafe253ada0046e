import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { FeedMessageFrame, SessionSummary } from '@chat/protocol';
import { applyFeedFrame } from './session-list-feed.ts';

const me: string = randomUUID();
const other: string = randomUUID();

function summary(overrides: Partial<SessionSummary> = {}): SessionSummary {
  return {
    id: randomUUID(),
    title: 'a session',
    analysisId: null,
    members: [me, other],
    createdAt: '2026-01-01T00:00:00.000Z',
    lastActivityAt: '2026-01-01T00:00:00.000Z',
    lastMessage: null,
    readSeq: 0,
    unread: 0,
    analysisStatus: null,
    ...overrides,
  };
}

function message(sessionId: string, seq: number, userId = other, at = `2026-01-02T00:00:${String(seq % 60).padStart(2, '0')}.000Z`): FeedMessageFrame {
  return { type: 'feed_message', sessionId, seq, userId, timestamp: at, preview: `message ${seq}` };
}

describe('applyFeedFrame', () => {
  it('counts others’ new messages, moves the session to the front and shows the preview', () => {
    const [quiet, busy] = [summary({ lastActivityAt: '2026-01-01T10:00:00.000Z' }), summary()];
    const { sessions, stale } = applyFeedFrame([quiet, busy], message(busy.id, 1), me);
    expect(stale).toBe(false);
    expect(sessions.map((s) => s.id)).toEqual([busy.id, quiet.id]);
    expect(sessions[0]).toMatchObject({ unread: 1, lastMessage: { seq: 1, userId: other, body: 'message 1' }, lastActivityAt: '2026-01-02T00:00:01.000Z' });
  });

  it('never counts the user’s own messages, nor what is before the read cursor', () => {
    const session = summary({ readSeq: 5, lastMessage: { seq: 4, userId: other, body: 'x', timestamp: '2026-01-01T00:00:00.000Z' } });
    expect(applyFeedFrame([session], message(session.id, 5), me).sessions[0]?.unread).toBe(0);
    expect(applyFeedFrame([session], message(session.id, 6, me), me).sessions[0]?.unread).toBe(0);
  });

  it('clears the badge when the user read up to the last message, and asks for the list when read part way', () => {
    const session = summary({ unread: 3, lastMessage: { seq: 3, userId: other, body: 'x', timestamp: '2026-01-01T00:00:00.000Z' } });
    expect(applyFeedFrame([session], { type: 'feed_read', sessionId: session.id, seq: 3 }, me)).toEqual({ sessions: [{ ...session, readSeq: 3, unread: 0 }], stale: false });
    expect(applyFeedFrame([session], { type: 'feed_read', sessionId: session.id, seq: 1 }, me)).toMatchObject({ stale: true, sessions: [{ readSeq: 1, unread: 3 }] });
  });

  it('asks for the list when a message comes from a session it does not show', () => {
    const shown = [summary()];
    expect(applyFeedFrame(shown, message(randomUUID(), 1), me)).toEqual({ sessions: shown, stale: true });
  });

  it('counts each message once however often and in whatever order the feed repeats them', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ seq: fc.integer({ min: 1, max: 30 }), mine: fc.boolean() }), { maxLength: 60 }), (arrivals) => {
        const session = summary();
        // What a sender decides: each seq is one message, by one user.
        const senderOf = new Map<number, string>();
        for (const { seq, mine } of arrivals) if (!senderOf.has(seq)) senderOf.set(seq, mine ? me : other);
        let list: readonly SessionSummary[] = [session];
        for (const { seq } of arrivals) list = applyFeedFrame(list, message(session.id, seq, senderOf.get(seq)), me).sessions;
        const result = list[0];
        // Seq order per session: a seq below the newest seen is a repeat, never a new message.
        let newest = 0;
        let counted = 0;
        for (const { seq } of arrivals) {
          if (seq > newest && senderOf.get(seq) === other) counted += 1;
          newest = Math.max(newest, seq);
        }
        expect(result?.unread).toBe(counted);
        expect(result?.lastMessage?.seq ?? 0).toBe(newest);
      }),
    );
  });
});
