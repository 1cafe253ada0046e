import type { ReadMarks } from '@chat/core';
import type { Connection } from './connection.ts';
import type { GatewayLogger } from './gateway-logger.ts';

/**
 * Answers a `{"type":"read","seq"}` frame on a chat socket: a forward move is stored and relayed
 * to the session's status sockets, with no answer to the sender; a move backwards or past the head
 * answers an error frame (`conflict`, `invalid_input`) and changes nothing.
 */
export async function answerReadFrame(
  connection: Pick<Connection, 'writeError'>,
  readMarks: ReadMarks | undefined,
  logger: GatewayLogger,
  at: { sessionId: string; userId: string; seq: number },
): Promise<void> {
  if (readMarks === undefined) {
    connection.writeError('unavailable', 'Read marks are not kept by this server.');
    return;
  }
  const result = await readMarks.mark(at.sessionId, at.userId, at.seq);
  if (result.ok) return;
  if (result.code === 'unavailable') logger.warn({ err: result.cause, sessionId: at.sessionId }, 'a read mark could not be stored');
  connection.writeError(result.code, result.message);
}
