import { ERROR_CODES } from './errors.ts';

/** WebSocket close codes of the contract, and whether a client should reconnect after each. */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  abnormal: 1006,
  /** Kept sending malformed frames past the allowance. */
  policyViolation: 1008,
  frameTooLarge: 1009,
  internalError: 1011,
  /** Admission could not be decided (a dependency did not answer): reconnect later. */
  tryAgainLater: 1013,
  badToken: 4401,
  forbidden: 4403,
  sessionNotFound: 4404,
  slowConsumer: 4408,
  rateLimited: 4429,
  chatDisabled: 4503,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

const MEANINGS: Record<number, string> = {
  1000: 'closed',
  1001: 'server restarting',
  1006: 'connection lost',
  1008: 'too many invalid frames',
  1009: 'frame too large',
  1011: 'server error',
  1013: 'server busy, try again later',
  4401: 'sign-in expired or invalid',
  4403: 'not a member of this session',
  4404: 'session not found or closed',
  4408: 'connection too slow',
  4429: 'rate limit exceeded',
  4503: 'chat is turned off',
};

/**
 * The words for a close. 4403 covers two refusals that need different fixes, told apart by the
 * close reason: the registry message of `origin_refused` means the page's address is not allowed.
 */
export function closeCodeMeaning(code: number, reason = ''): string {
  if (code === CLOSE_CODES.forbidden && reason === ERROR_CODES.origin_refused.message) return "this page's address may not connect to the chat";
  return MEANINGS[code] ?? `closed (${code})`;
}

/** Codes after which reconnecting cannot help: the client must change something first. */
const FINAL = new Set<number>([CLOSE_CODES.normal, CLOSE_CODES.badToken, CLOSE_CODES.forbidden, CLOSE_CODES.sessionNotFound, CLOSE_CODES.chatDisabled]);

export function shouldReconnect(code: number): boolean {
  return !FINAL.has(code);
}

/** The reason sent with 4403 when the user was removed from the session while connected. */
export const MEMBER_REMOVED_REASON = 'removed from this session';

/** The reason sent with 4503: chat was turned off by an operator; poll GET /api/chat/status before reconnecting. */
export const CHAT_DISABLED_REASON = 'chat is turned off';
