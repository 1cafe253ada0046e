import type { Bus, ChatStore, MessageQueue, PeopleStore, QueueConsumer, SessionState, WorkspaceStore } from '@chat/core';
import { callOperation, chatMetrics, dependencyOperation, type ChatMetrics, type Dependency } from '@chat/telemetry';

type DependencyMetrics = Pick<ChatMetrics, 'dependencyCallDuration' | 'dependencyFailures'>;

/** Method name to the `operation` label: `insertMessages` → `insert_messages`. */
function operationName(method: string): string {
  return method.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * The same port, with each listed method timed by `callDependency` (a client span, the call
 * duration histogram and the failure counter). Everything else (ping for the probes, close)
 * passes through untouched. Methods run on the original object, so private fields still work.
 */
export function timeCalls<T extends object>(
  port: T,
  dependency: Dependency,
  methods: readonly (keyof T & string)[],
  metrics: DependencyMetrics = chatMetrics(),
): T {
  const timed = new Map<PropertyKey, (...args: unknown[]) => Promise<unknown>>();
  for (const method of methods) {
    const original = port[method];
    if (typeof original !== 'function') throw new TypeError(`${method} is not a method of the port`);
    const operation = dependencyOperation(dependency, operationName(method));
    const call = original as (...args: unknown[]) => Promise<unknown>;
    timed.set(method, (...args) => callOperation(metrics, operation, () => call.apply(port, args)));
  }
  return new Proxy(port, {
    get(target, property) {
      const wrapped = timed.get(property);
      if (wrapped !== undefined) return wrapped;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

// Readiness probes (ping) and close are left out: they are not traffic, and a probe every few
// seconds would fill the traces with root spans.
const SESSION_STATE_CALLS = [
  'hydrate',
  'membership',
  'exists',
  'addMembers',
  'removeMember',
  'remove',
  'head',
  'reserve',
  'commit',
  'recent',
  'presenceJoinMember',
  'presenceLeave',
  'presenceRefresh',
  'presenceOnline',
  'presenceSweep',
  'members',
  'lastConnected',
] as const satisfies readonly (keyof SessionState)[];
const BUS_CALLS = ['publish', 'subscribe', 'unsubscribe'] as const satisfies readonly (keyof Bus)[];
const QUEUE_CALLS = ['publish', 'lastSeq', 'range'] as const satisfies readonly (keyof MessageQueue)[];
const CONSUMER_CALLS = ['pending'] as const satisfies readonly (keyof QueueConsumer)[];
const STORE_CALLS = [
  'createSession',
  'getSession',
  'addMembers',
  'removeMember',
  'updateSession',
  'closeSession',
  'history',
  'maxSeq',
  'insertMessages',
] as const satisfies readonly (keyof ChatStore)[];

/** Live session state in Redis, every call timed as `redis <operation>`. */
export function timedSessionState<T extends SessionState>(state: T, metrics?: DependencyMetrics): T {
  return timeCalls(state, 'redis', SESSION_STATE_CALLS, metrics);
}

/** Fan-out over Redis pub/sub. */
export function timedBus<T extends Bus>(bus: T, metrics?: DependencyMetrics): T {
  return timeCalls(bus, 'redis', BUS_CALLS, metrics);
}

/** The JetStream queue (publish resolves on the PubAck). */
export function timedQueue<T extends MessageQueue>(queue: T, metrics?: DependencyMetrics): T {
  return timeCalls(queue, 'nats', QUEUE_CALLS, metrics);
}

/** The JetStream consumer; its fetch loop runs inside the queue library, only `pending` is a call. */
export function timedConsumer<T extends QueueConsumer>(consumer: T, metrics?: DependencyMetrics): T {
  return timeCalls(consumer, 'nats', CONSUMER_CALLS, metrics);
}

/** PostgreSQL, as `postgres history`, `postgres insert_messages`, … */
export function timedStore<T extends ChatStore>(store: T, metrics?: DependencyMetrics): T {
  return timeCalls(store, 'postgres', STORE_CALLS, metrics);
}

const WORKSPACE_CALLS = ['moveReadCursor', 'readCursors', 'historyWithReads', 'listSessions', 'setAnalysisStatus', 'analysisStatus', 'searchMessages'] as const satisfies readonly (keyof WorkspaceStore)[];

/** Read cursors, analysis status and session lists in PostgreSQL. */
export function timedWorkspace<T extends WorkspaceStore>(workspace: T, metrics?: DependencyMetrics): T {
  return timeCalls(workspace, 'postgres', WORKSPACE_CALLS, metrics);
}

const PEOPLE_CALLS = ['recordPeople', 'findPeople'] as const satisfies readonly (keyof PeopleStore)[];

/** The people directory in PostgreSQL. */
export function timedPeople<T extends PeopleStore>(people: T, metrics?: DependencyMetrics): T {
  return timeCalls(people, 'postgres', PEOPLE_CALLS, metrics);
}
