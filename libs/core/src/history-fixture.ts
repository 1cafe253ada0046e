import type { ChatMessage } from '@chat/protocol';

/**
 * A message of `sessionId` at `seq` for the history tests: its id and time follow from the seq, and
 * its body names the tier it came from, so a merge that takes the wrong copy shows in the body.
 */
export function historyMessage(sessionId: string, seq: number, origin: string): ChatMessage {
  return {
    type: 'message',
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    sessionId,
    seq,
    userId: sessionId,
    body: `${origin} ${seq}`,
    metadata: {},
    timestamp: new Date(seq * 1000).toISOString(),
  };
}
