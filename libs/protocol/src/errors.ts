/**
 * The one registry of error codes: every code a client can see, with the HTTP status
 * it maps to on REST and, where it ends a WebSocket, the close code.
 */
export const ERROR_CODES = {
  invalid_input: { status: 400, message: 'The request is not valid.' },
  invalid_frame: { status: 400, message: 'The frame is not valid JSON or not a known frame.' },
  unauthorized: { status: 401, close: 4401, message: 'The token is missing, invalid or expired.' },
  forbidden: { status: 403, close: 4403, message: 'You are not a member of this session.' },
  origin_refused: { status: 403, close: 4403, message: 'This origin may not open a connection.' },
  not_found: { status: 404, close: 4404, message: 'The session does not exist or is closed.' },
  route_not_found: { status: 404, message: 'No such endpoint.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  too_large: { status: 413, message: 'The message or body is too large.' },
  rate_limited: { status: 429, close: 4429, message: 'Too many messages; slow down.' },
  slow_consumer: { status: 503, close: 4408, message: 'The connection could not keep up with its messages.' },
  unavailable: { status: 503, message: 'A dependency is unavailable; try again.' },
  chat_disabled: { status: 503, close: 4503, message: 'Chat is turned off.' },
  internal: { status: 500, message: 'Something went wrong on our side.' },
} as const satisfies Record<string, { status: number; close?: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error that crosses the system boundary with a stable code. */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code].message, options);
    this.code = code;
    this.status = ERROR_CODES[code].status;
  }
}
