import { createHash } from 'node:crypto';
import type { ChatMessage } from '@chat/protocol';

/**
 * The queue's de-duplication key of a message: its (sessionId, userId, clientMsgId), or its own id
 * when it has no clientMsgId. The queue thereby remembers a send even when live state forgot it
 * (Redis lost the session), so a resend within the duplicate window is recognised and not stored
 * twice. Hashed, because a clientMsgId is free text and this travels in a header.
 */
export function queueMessageId(message: Pick<ChatMessage, 'sessionId' | 'userId' | 'clientMsgId' | 'id'>): string {
  return createHash('sha256')
    .update(JSON.stringify([message.sessionId, message.userId, message.clientMsgId ?? message.id]))
    .digest('hex');
}
