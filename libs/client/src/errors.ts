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

/** The error code of the registry whose close code this is, so a close reads like a server error. */
export function errorCodeOfClose(code: number): string {
  if (code === CLOSE_CODES.forbidden) return 'forbidden';
  for (const [name, entry] of Object.entries(ERROR_CODES)) {
    if ('close' in entry && entry.close === code) return name;
  }
  return 'closed';
}

export function errorOfClose(code: number): ChatClientError {
  return new ChatClientError(errorCodeOfClose(code), closeCodeMeaning(code));
}
