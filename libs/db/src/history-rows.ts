import type { HistoryPage, HistoryRange } from '@chat/core';
import type { ChatMessage, ReadCursor } from '@chat/protocol';
import type { Selectable } from 'kysely';
import type { ChatMessagesTable } from './database.ts';
import { deadLetterAsMessage } from './dead-letter-rows.ts';
import type { HistoryStatementRow } from './history-statement.ts';

/** What a history statement's rows say: the page, and the read cursors when the statement reads them. */
export interface HistoryRows {
  page: HistoryPage;
  /** Ordered by user, as the read-cursor statement orders them. */
  reads: ReadCursor[];
}

/**
 * The page from the message rows joined with the open dead letters (marked `state: "dead_letter"`),
 * so a refused message is no unexplained hole; a row wins over a dead letter with the same seq. Each
 * side read one row past the page, so their union still tells whether more exist in that direction.
 */
export function historyOfRows(rows: readonly HistoryStatementRow[], range: HistoryRange): HistoryRows {
  const stored: ChatMessage[] = [];
  const dead: ChatMessage[] = [];
  const reads: ReadCursor[] = [];
  for (const row of rows) {
    if (row.kind === 'message') {
      stored.push(toMessage(row, row.iso_timestamp));
    } else if (row.kind === 'read') {
      reads.push({ userId: row.user_id, seq: Number(row.seq) });
    } else {
      const message = deadLetterAsMessage(row);
      if (message !== undefined) dead.push(message);
    }
  }
  // A union's rows come in no promised order. User ids are uuids, whose order in PostgreSQL is
  // their bytes' order, which is the order of their lowercase text.
  reads.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  stored.sort((a, b) => a.seq - b.seq);
  if (dead.length === 0) return { page: pageOf(stored, range), reads };
  const bySeq = new Map<number, ChatMessage>();
  for (const message of dead) bySeq.set(message.seq, message);
  // A row wins over a dead letter with the same seq.
  for (const message of stored) bySeq.set(message.seq, message);
  return { page: pageOf([...bySeq.values()].sort((a, b) => a.seq - b.seq), range), reads };
}

/**
 * The page of `ascending` (what both sides read, one past the page in the reading direction):
 * catching up its first `limit`, scrolling back its last.
 */
function pageOf(ascending: ChatMessage[], range: HistoryRange): HistoryPage {
  if (ascending.length <= range.limit) return { messages: ascending, hasMore: false };
  const messages = range.after !== undefined ? ascending.slice(0, range.limit) : ascending.slice(ascending.length - range.limit);
  return { messages, hasMore: true };
}

/** A stored row as a message; `timestamp` already as toISOString writes it (the history statement formats it in SQL). */
export function toMessage(row: Pick<Selectable<ChatMessagesTable>, 'id' | 'session_id' | 'seq' | 'user_id' | 'user_name' | 'message' | 'metadata' | 'client_msg_id'>, timestamp: string): ChatMessage {
  return {
    type: 'message',
    id: row.id,
    sessionId: row.session_id,
    seq: Number(row.seq),
    userId: row.user_id,
    ...(row.user_name === null ? {} : { userName: row.user_name }),
    body: row.message,
    metadata: row.metadata,
    timestamp,
    ...(row.client_msg_id === null ? {} : { clientMsgId: row.client_msg_id }),
  };
}
