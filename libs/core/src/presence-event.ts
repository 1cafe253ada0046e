import type { PresenceEntry } from './ports.ts';

/**
 * The bus payload announcing a user's first connection (`join`) or last one gone (`leave`) in a
 * session: built here for the gateway and for live state that publishes it itself, so both send
 * the same bytes.
 */
export function presenceEventPayload(type: 'join' | 'leave', entry: Pick<PresenceEntry, 'userId' | 'userName'>): string {
  if (type === 'leave') return JSON.stringify({ type, userId: entry.userId });
  return JSON.stringify({ type, userId: entry.userId, ...(entry.userName === undefined ? {} : { userName: entry.userName }) });
}
