/**
 * The bus key of a user's own channel, beside the sessions' channels: it carries only rare per-user
 * events (added to a session), never messages. Session ids are UUIDs, so no session shares it.
 */
export function userTopic(userId: string): string {
  return `user:${userId}`;
}
