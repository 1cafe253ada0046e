import type { QueueConsumer, QueuedMessage, SessionEventLog, SessionPresence, SessionRoster } from '@chat/core';
import { chatMessageSchema, type ChatMessage } from '@chat/protocol';
import type { Logger } from '@chat/telemetry';

/** Remembers which offline stretches were reported already (Redis in production), so each is reported once. */
export interface ReportedMarks {
  has(key: string): Promise<boolean>;
  add(key: string): Promise<void>;
}

/** Marks in Redis with a week's expiry: past it, the stream no longer holds the messages that could repeat one. */
export function redisMarks(redis: { exists(key: string): Promise<number>; set(key: string, value: string, mode: 'EX', seconds: number): Promise<unknown> }, prefix: string): ReportedMarks {
  return {
    has: async (key) => (await redis.exists(`${prefix}:${key}`)) === 1,
    add: async (key) => {
      await redis.set(`${prefix}:${key}`, '1', 'EX', 7 * 24 * 3600);
    },
  };
}

export interface UnreadOfflineWatcherDeps {
  /** A durable consumer of the message stream of its own. */
  consumer: QueueConsumer;
  state: SessionRoster & SessionPresence;
  events: SessionEventLog;
  marks: ReportedMarks;
  minutes: number;
  logger: Logger;
  now?: () => number;
}

/**
 * Turns messages into `member.unread_offline` events. A message is unread by a member who has not
 * had a chat socket open in the session since it was sent (read marks do not exist yet, so that
 * is what unread means). Each message waits in JetStream until N minutes after it was sent (a
 * delayed redelivery, so the wait survives restarts); then every member other than its author
 * who is offline and was last connected before it gets one event per offline stretch: its id is
 * `member.unread_offline:<session>:<user>:<last connected ms, or 0>`, so later messages of the
 * same stretch add nothing.
 */
export class UnreadOfflineWatcher {
  readonly name = 'unread-offline-watcher';
  readonly #deps: UnreadOfflineWatcherDeps;
  readonly #controller = new AbortController();
  #running: Promise<void> | undefined;

  constructor(deps: UnreadOfflineWatcherDeps) {
    this.#deps = deps;
  }

  start(): Promise<void> {
    this.#running = this.#deps.consumer.run(this.#controller.signal, async (batch) => {
      await Promise.all(batch.map((queued) => this.#handle(queued)));
    });
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#running;
  }

  async #handle(queued: QueuedMessage): Promise<void> {
    const parsed = chatMessageSchema.safeParse(parseJson(queued.data));
    if (!parsed.success) {
      queued.term('not a chat message');
      return;
    }
    const message = parsed.data;
    const dueAt = Date.parse(message.timestamp) + this.#deps.minutes * 60_000;
    const waitMs = dueAt - (this.#deps.now ?? Date.now)();
    if (waitMs > 0) {
      queued.nak(waitMs);
      return;
    }
    try {
      await this.#report(message);
      queued.ack();
    } catch (error) {
      this.#deps.logger.warn({ err: error, sessionId: message.sessionId }, 'unread check failed; will retry');
      queued.nak(5_000);
    }
  }

  async #report(message: ChatMessage): Promise<void> {
    const { state, events, marks } = this.#deps;
    const members = await state.members(message.sessionId);
    // Not live: closed, or idle so long its live state went; nobody is told about it.
    if (members === null) return;
    const [online, lastConnected] = await Promise.all([state.presenceOnline(message.sessionId), state.lastConnected(message.sessionId)]);
    const onlineNow = new Set(online.map((user) => user.userId));
    const sentAt = Date.parse(message.timestamp);
    for (const userId of members) {
      if (userId === message.userId || onlineNow.has(userId)) continue;
      const last = lastConnected.get(userId);
      if (last !== undefined && last >= sentAt) continue;
      const id = `member.unread_offline:${message.sessionId}:${userId}:${last ?? 0}`;
      if (await marks.has(id)) continue;
      await events.append({
        id,
        type: 'member.unread_offline',
        createdAt: new Date((this.#deps.now ?? Date.now)()).toISOString(),
        data: {
          sessionId: message.sessionId,
          userId,
          firstUnreadSeq: message.seq,
          unreadSince: message.timestamp,
          lastConnectedAt: last === undefined ? null : new Date(last).toISOString(),
          offlineMinutes: this.#deps.minutes,
        },
      });
      // Marked after the append: a crash between the two repeats the event under the same id, never loses it.
      await marks.add(id);
    }
  }
}

function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
