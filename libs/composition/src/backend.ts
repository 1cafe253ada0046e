import type { Config } from '@chat/config';
import type { Bus, ChatStore, ChatSwitchStore, ConnectionSlots, DeadLetterStore, MessageQueue, PeopleStore, QueueConsumer, SessionEventLog, SessionState, UserRateLimiter, WorkspaceStore } from '@chat/core';
import { ChatSwitch, MessageIntake, PeopleRecorder, ReadMarks, SessionDirectory } from '@chat/core';

/** The outside world of one process, behind its ports; services never learn which kind they got. */
export interface Backend {
  readonly kind: 'services' | 'embedded';
  readonly state: SessionState;
  readonly bus: Bus;
  readonly queue: MessageQueue;
  readonly store: ChatStore;
  /** Messages the persister could not write, in the same database as the store. */
  readonly deadLetters: DeadLetterStore;
  /** Read cursors, analysis status and session lists, in the same database as the store. */
  readonly workspace: WorkspaceStore;
  readonly readMarks: ReadMarks;
  /** The people seen through their tokens' names, in the same database as the store. */
  readonly people: PeopleStore;
  /**
   * Writes the callers this process verifies into `people`, at most once per user per interval;
   * one per process, shared by its gateways and API. A failed write shows in the dependency metrics.
   */
  readonly peopleRecorder: PeopleRecorder;
  readonly directory: SessionDirectory;
  readonly intake: MessageIntake;
  /** Where the kill switch is kept: Redis, or one in-process value in the embedded mode. */
  readonly switchStore: ChatSwitchStore;
  /** Session events (closed, member removed) for the webhooks service: a JetStream stream, or memory. */
  readonly sessionEvents: SessionEventLog;
  /** Per-user budgets (sends, session creation): Redis, shared by every replica, or one in-process count. */
  readonly rateLimiter: UserRateLimiter;
  /** Open connections per user and per address (the gateways' caps): Redis, shared by every replica, or one in-process count. */
  readonly slots: ConnectionSlots;
  /** The queue's consuming side, for the persister; made on first use. */
  consumer(): Promise<QueueConsumer>;
  close(): Promise<void>;
}

export interface BackendParts {
  kind: Backend['kind'];
  state: SessionState;
  bus: Bus;
  queue: MessageQueue;
  store: ChatStore;
  deadLetters: DeadLetterStore;
  workspace: WorkspaceStore;
  people: PeopleStore;
  switchStore: ChatSwitchStore;
  sessionEvents: SessionEventLog;
  rateLimiter: UserRateLimiter;
  slots: ConnectionSlots;
  makeConsumer: () => Promise<QueueConsumer>;
  /** Releases everything, after the ports' own close(). */
  release?: () => Promise<void>;
}

export function assembleBackend(parts: BackendParts): Backend {
  const { state, bus, queue, store } = parts;
  const directory = new SessionDirectory({ state, store, queue });
  const intake = new MessageIntake({ state, queue, bus, directory });
  const readMarks = new ReadMarks({ state, store, workspace: parts.workspace, bus });
  let consumer: Promise<QueueConsumer> | undefined;
  const peopleRecorder = new PeopleRecorder({ store: parts.people });
  return {
    kind: parts.kind,
    state,
    bus,
    queue,
    store,
    deadLetters: parts.deadLetters,
    workspace: parts.workspace,
    readMarks,
    people: parts.people,
    peopleRecorder,
    directory,
    intake,
    switchStore: parts.switchStore,
    sessionEvents: parts.sessionEvents,
    rateLimiter: parts.rateLimiter,
    slots: parts.slots,
    consumer: () => (consumer ??= parts.makeConsumer()),
    close: async () => {
      // Users still waiting in the recorder's buffer are written before the database goes.
      await peopleRecorder.close();
      await Promise.allSettled([state.close(), bus.close(), queue.close(), store.close(), parts.switchStore.close(), parts.rateLimiter.close(), parts.slots.close()]);
      await parts.release?.();
    },
  };
}

/** This process's view of the kill switch, from the backend's store and the CHAT_DISABLED / CHAT_SWITCH_POLL_MS settings. */
export function createChatSwitch(config: Config, backend: Pick<Backend, 'switchStore'>, onError?: (error: unknown) => void): ChatSwitch {
  return new ChatSwitch({ store: backend.switchStore, hardOff: config.chatSwitch.hardOff, pollMs: config.chatSwitch.pollMs, ...(onError === undefined ? {} : { onError }) });
}
