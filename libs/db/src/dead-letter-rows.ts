import { createHash } from 'node:crypto';
import type { DeadLetter } from '@chat/core';
import { decodeQueuedMessage, type ChatMessage } from '@chat/protocol';
import type { Selectable } from 'kysely';
import type { ChatDeadLettersTable } from './database.ts';

/** Shown for the sender of a dead letter whose payload does not say who sent it. */
export const UNKNOWN_USER_ID = '00000000-0000-0000-0000-000000000000';

export type DeadLetterRow = Selectable<ChatDeadLettersTable>;

/**
 * A dead letter's id: its message's id when the payload names one, else a UUID made from the
 * payload's SHA-256, so the same bytes delivered again map to the same dead letter.
 */
export function deadLetterId(payload: Uint8Array, messageId: string | undefined): string {
  if (messageId !== undefined) return messageId;
  const hash = createHash('sha256').update(payload).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x80; // version 8: custom
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    messageId: row.message_id,
    sessionId: row.session_id,
    seq: row.seq === null ? null : Number(row.seq),
    reason: row.reason,
    error: row.error,
    errorCode: row.error_code,
    attempts: row.attempts,
    firstFailedAt: row.first_failed_at.toISOString(),
    lastFailedAt: row.last_failed_at.toISOString(),
    replayedAt: row.replayed_at === null ? null : row.replayed_at.toISOString(),
    payload: new Uint8Array(row.payload),
  };
}

/**
 * A dead letter as history shows it, so a reader sees what the hole at its seq is: the message as
 * it was acknowledged (and delivered live), marked `state: "dead_letter"`; or, when its payload is
 * not a readable chat message, an empty placeholder with the ids the row has and an unknown sender.
 */
export function deadLetterAsMessage(row: Pick<DeadLetterRow, 'id' | 'message_id' | 'session_id' | 'seq' | 'payload' | 'first_failed_at'>): ChatMessage | undefined {
  if (row.session_id === null || row.seq === null) return undefined;
  const decoded = decodeQueuedMessage(new Uint8Array(row.payload));
  if (decoded.ok && decoded.message.sessionId.toLowerCase() === row.session_id && decoded.message.seq === Number(row.seq)) return { ...decoded.message, state: 'dead_letter' };
  return {
    type: 'message',
    id: row.message_id ?? row.id,
    sessionId: row.session_id,
    seq: Number(row.seq),
    userId: UNKNOWN_USER_ID,
    body: '',
    metadata: {},
    timestamp: row.first_failed_at.toISOString(),
    state: 'dead_letter',
  };
}

/** PostgreSQL text cannot hold NUL; an error message is kept readable rather than refused. */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '\\u0000');
}
