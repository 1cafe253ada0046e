import { MAX_UNREAD_COUNT, type AnalysisStatusFrame, type FeedMessageFrame, type FeedReadFrame, type SessionSummary } from '@chat/protocol';

export interface FeedUpdate {
  sessions: readonly SessionSummary[];
  /** The change could not be worked out from the frame alone: read the list again (GET /api/chat/sessions). */
  stale: boolean;
}

/**
 * A session list (as `GET /api/chat/sessions` gave it) with one feed frame applied, for a UI that
 * keeps its badges live between reads of the list. `me` is the user the feed is for: their own
 * messages are never unread. A message the list holds already (by seq) changes nothing.
 */
export function applyFeedFrame(sessions: readonly SessionSummary[], frame: FeedMessageFrame | FeedReadFrame | AnalysisStatusFrame, me: string): FeedUpdate {
  const index = sessions.findIndex((session) => session.id === frame.sessionId);
  const session = sessions[index];
  // A session the list does not show (older than its page, or new): only a fresh read can place it.
  if (session === undefined) return { sessions, stale: frame.type === 'feed_message' };
  switch (frame.type) {
    case 'feed_message': {
      if (frame.seq <= (session.lastMessage?.seq ?? 0)) return { sessions, stale: false };
      const { type: _type, sessionId: _sessionId, preview, ...about } = frame;
      const unseen = frame.userId !== me && frame.seq > session.readSeq;
      const updated: SessionSummary = {
        ...session,
        lastMessage: { ...about, body: preview },
        lastActivityAt: later(session.lastActivityAt, frame.timestamp),
        unread: unseen ? Math.min(MAX_UNREAD_COUNT, session.unread + 1) : session.unread,
      };
      return { sessions: byActivity(replaced(sessions, index, updated)), stale: false };
    }
    case 'feed_read': {
      if (frame.seq <= session.readSeq) return { sessions, stale: false };
      const head = session.lastMessage?.seq ?? 0;
      // Read to the last message known: nothing is unread. Part way: only the list can count what is left.
      const updated: SessionSummary = { ...session, readSeq: frame.seq, unread: frame.seq >= head ? 0 : session.unread };
      return { sessions: replaced(sessions, index, updated), stale: frame.seq < head };
    }
    case 'analysis_status': {
      const { type: _type, ...status } = frame;
      return { sessions: replaced(sessions, index, { ...session, analysisStatus: status }), stale: false };
    }
  }
}

function replaced(sessions: readonly SessionSummary[], index: number, session: SessionSummary): SessionSummary[] {
  return sessions.map((known, i) => (i === index ? session : known));
}

/** Newest activity first, as the list endpoint sorts; ties keep their order. */
function byActivity(sessions: SessionSummary[]): SessionSummary[] {
  return sessions.map((session, i) => ({ session, i, at: Date.parse(session.lastActivityAt) })).sort((a, b) => b.at - a.at || a.i - b.i).map(({ session }) => session);
}

function later(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
}
