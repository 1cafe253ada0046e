import { createHash } from 'node:crypto';
import { isSeqGap, type ChatMessage } from '@chat/protocol';
import type { QueueKeySource } from './ports.ts';

/**
 * The queue's de-duplication key of a message: its (sessionId, userId, clientMsgId), or its own id
 * when it has no clientMsgId. The queue thereby remembers a send even when live state forgot it
 * (Redis lost the session), so a resend within the duplicate window is recognised and not stored
 * twice. Hashed, because a clientMsgId is free text and this travels in a header.
 */
export function queueMessageId(message: QueueKeySource): string {
  return createHash('sha256')
    .update(JSON.stringify([message.sessionId, message.userId, message.clientMsgId ?? message.id]))
    .digest('hex');
}

/**
 * The key of a resend whose first attempt was sealed by a gap record at `gapSeq` (the gap holds
 * the message's own key, so the resend, which has a new seq, needs another one).
 */
export function queueMessageIdAfterGap(message: QueueKeySource, gapSeq: number): string {
  return createHash('sha256')
    .update(JSON.stringify([message.sessionId, message.userId, message.clientMsgId ?? message.id, 'after-gap', gapSeq]))
    .digest('hex');
}

/**
 * Whether `message`, found to repeat the key of `stored`, is a resend after a seal: `stored` is a
 * gap record and `message` a message with another seq. The sealed attempt itself (same seq) stays
 * a duplicate of the gap, so it can never land beside it.
 */
export function afterGap(stored: ChatMessage, message: ChatMessage): boolean {
  return isSeqGap(stored) && !isSeqGap(message) && stored.seq !== message.seq;
}
