import type { AnalysisStatus, ReadCursor, SessionSummary } from '@chat/protocol';
import type { MessageSearchPage, MessageSearchQuery } from './message-search.ts';
import type { HistoryPage, HistoryRange } from './ports.ts';

/** Where a user's session list page starts: after this (activity, id), newest first. */
export interface SessionListPosition {
  /** Microseconds since the epoch, as the store keeps its timestamps. */
  activityMicros: string;
  id: string;
}

export interface SessionListQuery {
  /** Whose sessions: they are a member, and unread counts are theirs. */
  userId: string;
  /** Admins see every open session, not only those they are a member of. */
  everySession: boolean;
  limit: number;
  after?: SessionListPosition;
  analysisId?: string;
}

export interface SessionListPage {
  sessions: SessionSummary[];
  /** Where the next page starts, or null when this was the last. */
  next: SessionListPosition | null;
}

/** A page of the store's history and the session's read cursors, read together. */
export interface PageWithReads {
  page: HistoryPage;
  /** Ordered by user, as readCursors answers them. */
  reads: ReadCursor[];
}

export type ReadCursorMove =
  /** The cursor is now at `seq`. */
  | { status: 'moved'; seq: number }
  /** The cursor was at `seq` already. */
  | { status: 'unchanged'; seq: number }
  /** The cursor is past the asked seq already; cursors only move forward. */
  | { status: 'behind'; current: number };

/** The workspace's durable records beside the chat: read cursors, analysis status, session lists. */
export interface WorkspaceStore {
  /** Moves the user's cursor to `seq` only if that is forward, in one statement. */
  moveReadCursor(sessionId: string, userId: string, seq: number): Promise<ReadCursorMove>;
  readCursors(sessionId: string): Promise<ReadCursor[]>;
  /**
   * What ChatStore.history answers and what readCursors answers, in one read: the workspace is in the
   * same database as the store, so a history page with its cursors costs one round trip.
   */
  historyWithReads(sessionId: string, range: HistoryRange): Promise<PageWithReads>;
  listSessions(query: SessionListQuery): Promise<SessionListPage>;
  setAnalysisStatus(status: AnalysisStatus): Promise<void>;
  analysisStatus(sessionId: string): Promise<AnalysisStatus | null>;
  /** Full-text search of a session's stored messages (not those still only in the queue). */
  searchMessages(query: MessageSearchQuery): Promise<MessageSearchPage>;
}
