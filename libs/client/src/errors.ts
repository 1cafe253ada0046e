import { CLOSE_CODES, closeCodeMeaning, ERROR_CODES } from '@chat/protocol';

/** An error a caller can act on: `code` is the server's error code, or a close-derived one. */
export class ChatClientError extends Error {
  override readonly name = 'ChatClientError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * The error code of the registry whose close code this is, so a close reads like a server error.
 * Where codes share a close code (4403), the close reason, which is the registry message, decides.
 */
export function errorCodeOfClose(code: number, reason = ''): string {
  const matching = Object.entries(ERROR_CODES).filter(([, entry]) => 'close' in entry && entry.close === code);
  const named = matching.find(([, entry]) => entry.message === reason);
  if (named) return named[0];
  if (code === CLOSE_CODES.forbidden) return 'forbidden';
  return matching[0]?.[0] ?? 'closed';
}

export function errorOfClose(code: number, reason = ''): ChatClientError {
  return new ChatClientError(errorCodeOfClose(code, reason), closeCodeMeaning(code, reason));
}
