/**
 * Something that happened to a session, besides its messages, kept for the webhooks service.
 * `id` is the event's de-duplication key: the same on every retry of what caused it.
 */
export type SessionLifecycleEvent =
  | { id: string; type: 'session.closed'; createdAt: string; data: { sessionId: string; closedAt: string; closedBy: string } }
  | { id: string; type: 'member.removed'; createdAt: string; data: { sessionId: string; userId: string; removedBy: string } }
  | { id: string; type: 'member.unread_offline'; createdAt: string; data: { sessionId: string; userId: string; firstUnreadSeq: number; unreadSince: string; lastConnectedAt: string | null; offlineMinutes: number } };

/** The durable log of session events (a JetStream stream); the embedded mode has no webhooks and keeps them in memory. */
export interface SessionEventLog {
  /** Resolves once the event is durable; the same id twice within the stream's duplicate window is stored once. */
  append(event: SessionLifecycleEvent): Promise<void>;
}

/** The embedded mode's log: nothing reads it but tests. */
export class MemorySessionEvents implements SessionEventLog {
  readonly events: SessionLifecycleEvent[] = [];

  append(event: SessionLifecycleEvent): Promise<void> {
    if (!this.events.some((known) => known.id === event.id)) this.events.push(event);
    return Promise.resolve();
  }
}
