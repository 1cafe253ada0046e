import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { feedMessageOf, feedServerFrameSchema } from './feed.ts';
import { FEED_PREVIEW_CHARS } from './limits.ts';

const message = {
  sessionId: '00000000-0000-4000-8000-000000000001',
  seq: 7,
  userId: '00000000-0000-4000-8000-000000000002',
  userName: 'Ada',
  timestamp: '2026-01-02T03:04:05.000Z',
  body: 'Q3 margins look thin',
  metadata: { kind: 'analysis_result', extra: 1 },
};

describe('feedMessageOf', () => {
  it('writes the feed_message frame field for field, in the order the wire carries them', () => {
    expect(JSON.stringify(feedMessageOf(message))).toBe(
      '{"type":"feed_message","sessionId":"00000000-0000-4000-8000-000000000001","seq":7,"userId":"00000000-0000-4000-8000-000000000002","userName":"Ada","timestamp":"2026-01-02T03:04:05.000Z","preview":"Q3 margins look thin","kind":"analysis_result"}',
    );
    const { userName: _name, metadata: _metadata, ...bare } = message;
    expect(feedMessageOf(bare)).toEqual({ type: 'feed_message', sessionId: message.sessionId, seq: 7, userId: message.userId, timestamp: message.timestamp, preview: message.body });
  });

  it('cuts any body to its first FEED_PREVIEW_CHARS code points, never half a surrogate pair, and the frame parses', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (body) => {
        const frame = feedMessageOf({ ...message, body });
        const points = Array.from(body);
        expect(frame.preview).toBe(points.slice(0, FEED_PREVIEW_CHARS).join(''));
        expect(feedServerFrameSchema.safeParse(JSON.parse(JSON.stringify(frame))).success).toBe(true);
      }),
    );
  });
});

describe('feedServerFrameSchema', () => {
  it('takes each feed frame and refuses a frame of another route or a bad field', () => {
    const sessionId = message.sessionId;
    for (const frame of [
      { type: 'feed_open', userId: message.userId, sessionIds: [sessionId] },
      { type: 'feed_read', sessionId, seq: 0 },
      { type: 'session_added', sessionId },
      { type: 'session_removed', sessionId, reason: 'session_closed' },
      { type: 'error', code: 'invalid_frame', message: 'x' },
      { type: 'authenticated' },
      { type: 'pong' },
    ]) {
      expect(feedServerFrameSchema.safeParse(frame).success).toBe(true);
    }
    expect(feedServerFrameSchema.safeParse({ type: 'welcome', sessionId, userId: message.userId, connectionId: 'c', seq: 0 }).success).toBe(false);
    expect(feedServerFrameSchema.safeParse({ type: 'feed_read', sessionId: 'not-a-uuid', seq: 0 }).success).toBe(false);
    expect(feedServerFrameSchema.safeParse({ type: 'session_removed', sessionId, reason: 'left' }).success).toBe(false);
  });
});
