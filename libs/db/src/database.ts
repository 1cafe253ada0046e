import type { ColumnType } from 'kysely';

/** JSONB goes in as serialized text (the same for pg and PGlite) and comes out parsed. */
type Json = ColumnType<Record<string, unknown>, string | undefined, string>;

/** BIGINT comes back as a string from pg and as a number from PGlite. */
type BigIntColumn = ColumnType<string | number, number, number>;

export interface ChatMessagesTable {
  id: string;
  session_id: string;
  seq: BigIntColumn;
  user_id: string;
  message: string;
  timestamp: ColumnType<Date, string, string>;
  metadata: Json;
  client_msg_id: string | null;
  user_name: string | null;
}

/**
 * The columns a message is read from. Reads name them rather than `select *`: the table also has
 * `body_search` (migration 45-search), a vector only search uses, which history and exports leave out.
 */
export const MESSAGE_COLUMNS = ['id', 'session_id', 'seq', 'user_id', 'message', 'timestamp', 'metadata', 'client_msg_id', 'user_name'] as const satisfies readonly (keyof ChatMessagesTable)[];

export interface ChatSessionsTable {
  id: string;
  title: string | null;
  members: ColumnType<string[], readonly string[], readonly string[]>;
  metadata: Json;
  created_at: ColumnType<Date, string | undefined, never>;
  closed_at: ColumnType<Date | null, string | null | undefined, string | null>;
}

export interface ChatDeadLettersTable {
  id: string;
  message_id: string | null;
  session_id: string | null;
  seq: ColumnType<string | number | null, number | null, number | null>;
  payload: ColumnType<Uint8Array, Uint8Array, Uint8Array>;
  reason: 'invalid_payload' | 'refused';
  error: string;
  error_code: string | null;
  attempts: number;
  first_failed_at: ColumnType<Date, string, string>;
  last_failed_at: ColumnType<Date, string, string>;
  replayed_at: ColumnType<Date | null, string | null | undefined, string | null>;
}

export interface ChatReadCursorsTable {
  session_id: string;
  user_id: string;
  seq: BigIntColumn;
  updated_at: ColumnType<Date, string | undefined, string>;
}

export interface ChatAnalysisStatusTable {
  session_id: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  progress: number | null;
  reason: string | null;
  updated_at: ColumnType<Date, string, string>;
}

export interface ChatPeopleTable {
  user_id: string;
  name: string;
  name_key: string;
  seen_at: ColumnType<Date, string | undefined, string>;
}

export interface Database {
  chat_messages: ChatMessagesTable;
  chat_sessions: ChatSessionsTable;
  chat_dead_letters: ChatDeadLettersTable;
  chat_read_cursors: ChatReadCursorsTable;
  chat_analysis_status: ChatAnalysisStatusTable;
  chat_people: ChatPeopleTable;
}

