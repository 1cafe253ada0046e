import { DEFAULT_MAX_MESSAGE_CHARS } from '@chat/protocol';

/** Plain words for every error code a person may meet. */
export function errorText(code: string, serverMessage?: string): string {
  switch (code) {
    case 'rate_limited':
      return 'You are sending messages too fast. Wait a moment, then try again.';
    case 'too_large':
      return `This message is too long. Messages can be up to ${DEFAULT_MAX_MESSAGE_CHARS} characters (the server may set another limit).`;
    case 'not_found':
      return 'This chat session has been closed or does not exist.';
    case 'forbidden':
      return 'You are not a member of this chat session.';
    case 'origin_refused':
      return "This page's address is not allowed to connect to the chat server. An operator can add it to ALLOWED_ORIGINS.";
    case 'unauthorized':
      return 'Your sign-in has expired or is not valid. Sign in again.';
    case 'unavailable':
      return 'The chat service is briefly unavailable. Your message was not sent; try again.';
    case 'chat_disabled':
      return 'Chat is turned off for now. The history stays readable; sending works again once it is back on.';
    case 'slow_consumer':
      return 'The connection could not keep up. Reconnecting.';
    case 'invalid_frame':
    case 'invalid_input':
      return `The message could not be read by the server${serverMessage ? `: ${serverMessage}` : '.'}`;
    case 'closed':
      return 'The connection was closed.';
    case 'discarded':
      return 'The message was discarded.';
    default:
      return serverMessage ?? 'Something went wrong. Try again.';
  }
}

/** Whether sending the same message again can succeed. */
export function canRetry(code: string): boolean {
  return code === 'rate_limited' || code === 'unavailable' || code === 'internal' || code === 'closed';
}
