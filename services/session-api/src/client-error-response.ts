import type { Duplex } from 'node:stream';
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@chat/protocol';

/**
 * Node's HTTP parser refuses some requests before express sees them (an unknown method, a
 * malformed request line or header, headers past the size limit, a client too slow to send
 * them). Its own answer has no body; this one carries the contract's error body, then closes.
 */
export function answerClientError(error: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, code, message] = answerFor(error.code);
  const body = JSON.stringify({ error: { code, message } } satisfies ErrorBody);
  // The answer to a HEAD request carries no body, even when the request could not be parsed.
  const head = Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
  );
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

function answerFor(parserCode: string | undefined): [number, ErrorCode, string] {
  if (parserCode === 'HPE_HEADER_OVERFLOW') return [431, 'too_large', 'The request headers are larger than the limit.'];
  if (parserCode === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'invalid_input', 'The request was not sent in time.'];
  return [400, 'invalid_input', ERROR_CODES.invalid_input.message];
}
