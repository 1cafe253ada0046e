import type { ChatMessage } from '@chat/protocol';

/**
 * Why a queued message became a dead letter: its payload is not a chat message the persister can
 * read (`invalid_payload`), or the store refused its row after the persister's retries (`refused`).
 */
export type DeadLetterReason = 'invalid_payload' | 'refused';

/** What the persister knows of a message it could not write; ids only where the payload names them. */
export interface NewDeadLetter {
  /** The queued bytes, exactly as received. */
  payload: Uint8Array;
  messageId?: string;
  sessionId?: string;
  seq?: number;
  reason: DeadLetterReason;
  /** The error, without the row's content (a database error's detail can quote it). */
  error: string;
  /** SQLSTATE, when the store gave one. */
  errorCode?: string;
  /** Deliveries of the message so far. */
  attempts: number;
  failedAt: string;
}

export interface DeadLetter {
  id: string;
  messageId: string | null;
  sessionId: string | null;
  seq: number | null;
  reason: DeadLetterReason;
  error: string;
  errorCode: string | null;
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
  /** Set once a replay wrote the message (or found it written). */
  replayedAt: string | null;
  payload: Uint8Array;
}

export interface DeadLetterQuery {
  limit: number;
  sessionId?: string;
  /** Replayed dead letters are kept for audit; listed only when asked. */
  includeReplayed: boolean;
}

export type ReplayOutcome =
  /** The message is now a row in chat_messages (written now, or found already written). */
  | { status: 'replayed'; deadLetter: DeadLetter; message: ChatMessage; inserted: boolean }
  | { status: 'not_found' }
  /** The payload is not a chat message: there is nothing to write. */
  | { status: 'unreadable'; deadLetter: DeadLetter }
  /** The store still refuses the row, or another message holds its seq. */
  | { status: 'refused'; deadLetter: DeadLetter; error: string };

/** Where the persister puts what it can never write, so an acknowledged message is never dropped. */
export interface DeadLetterSink {
  /** Records (or, for a message already recorded, updates) a dead letter; resolves once durable. */
  add(entry: NewDeadLetter): Promise<void>;
}

/** The dead letters as an operator sees them: listed, inspected, replayed after a fix. */
export interface DeadLetterStore extends DeadLetterSink {
  list(query: DeadLetterQuery): Promise<DeadLetter[]>;
  get(id: string): Promise<DeadLetter | null>;
  /** Writes the message once (ON CONFLICT DO NOTHING) and marks the dead letter replayed, in one transaction. */
  replay(id: string, now: string): Promise<ReplayOutcome>;
  /** Dead letters not replayed yet, for the alerting gauge. */
  countOpen(): Promise<number>;
}
