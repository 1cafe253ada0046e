import type { ChatMessage } from './frames.ts';

/** The sender of a gap record: no user has the nil UUID. */
export const GAP_USER_ID = '00000000-0000-0000-0000-000000000000';

/**
 * A gap record takes a seq whose message will never exist (its publish failed and was sealed),
 * so readers see a gapless sequence and need not wait for it. It travels, is stored and is read
 * back like a message (`message` frame, history, PostgreSQL) and is not shown to people:
 * `userId` is the nil UUID, `body` is empty and `metadata.gap` is true.
 */
export function isSeqGap(message: Pick<ChatMessage, 'userId' | 'metadata'>): boolean {
  return message.userId === GAP_USER_ID && message.metadata['gap'] === true;
}

export function seqGap(of: Pick<ChatMessage, 'sessionId' | 'seq' | 'timestamp'>, id: string): ChatMessage {
  return { type: 'message', id, sessionId: of.sessionId, seq: of.seq, userId: GAP_USER_ID, body: '', metadata: { gap: true }, timestamp: of.timestamp };
}
