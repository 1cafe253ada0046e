import { randomUUID } from 'node:crypto';
import type { ChatMessage } from '@chat/protocol';

/**
 * A stored message row for store, queue and history tests: fresh ids, a body and a time that
 * follow `seq` (one second apart from 2026-01-01); `extra` overrides any field.
 */
export function chatMessage(sessionId: string, seq: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    type: 'message',
    id: randomUUID(),
    sessionId,
    seq,
    userId: randomUUID(),
    body: `message ${seq}`,
    metadata: {},
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    ...extra,
  };
}
