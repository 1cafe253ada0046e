import type { Config } from '@chat/config';
import { connectRedis, RedisBus, RedisConnectionSlots, RedisSessionState, RedisSwitchStore } from '@chat/redis';
import { JetStreamQueue, JetStreamSessionEvents, sessionEventStream, JetStreamQueueConsumer } from '@chat/jetstream';
import { createDatabase, KyselyChatStore, KyselyDeadLetterStore, KyselyPeopleStore, KyselyWorkspaceStore } from '@chat/db';
import type { QueueConsumer } from '@chat/core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { assembleBackend, type Backend } from './backend.ts';
import { SlotsOnFirstUse } from './slots-on-first-use.ts';
import { timedBus, timedConsumer, timedQueue, timedSessionState, timedPeople, timedStore, timedWorkspace } from './timed-ports.ts';

export interface ServicesBackendOptions {
  /** Names the connections in Redis CLIENT LIST and NATS monitoring. */
  role: string;
  onError?: (error: unknown, dependency: 'redis' | 'nats') => void;
  /** PostgreSQL pool size. */
  maxDbConnections?: number;
  /** PostgreSQL statement timeout. */
  queryTimeoutMs?: number;
  /** Pause between NATS reconnect attempts (the client's own 2 s by default); tests that cut NATS shorten it. */
  natsReconnectWaitMs?: number;
  /** Batches the consumer writes at once and how long a trickle waits to fill one (JetStreamConsumerOptions). */
  consumer?: { inFlight?: number; lingerMs?: number };
}

/** The parts a queue-draining process needs (the persister): PostgreSQL and the queue's consuming side, no Redis. */
export type ConsumerBackend = Pick<Backend, 'store' | 'deadLetters' | 'consumer' | 'close'>;

export function connectNats(config: Config, name: string, options: ServicesBackendOptions): Promise<NatsConnection> {
  // Waits for NATS at start-up rather than crashing, and reconnects forever afterwards.
  // noAsyncTraces: otherwise every request (each JetStream publish) builds two Error objects up
  // front to keep a stack for a timeout that almost never comes, about a tenth of the gateway's CPU.
  return connect({
    servers: [...config.natsServers],
    name,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    noAsyncTraces: true,
    ...(options.natsReconnectWaitMs === undefined ? {} : { reconnectTimeWait: options.natsReconnectWaitMs }),
  });
}

function openDatabase(config: Config, options: ServicesBackendOptions): ReturnType<typeof createDatabase> {
  return createDatabase({
    kind: 'postgres',
    url: config.databaseUrl,
    ...(options.maxDbConnections === undefined ? {} : { maxConnections: options.maxDbConnections }),
    ...(options.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: options.queryTimeoutMs }),
  });
}

export function streamOf(config: Config): { stream: string; subjectPrefix: string; replicas: number } {
  return { stream: config.queue.stream, subjectPrefix: config.queue.subjectPrefix, replicas: config.queue.replicas };
}

async function createConsumer(nats: NatsConnection, config: Config, options: ServicesBackendOptions): Promise<QueueConsumer> {
  return timedConsumer(
    await JetStreamQueueConsumer.create(nats, {
      ...streamOf(config),
      consumer: config.queue.consumer,
      batchSize: config.queue.batchSize,
      ...options.consumer,
      onError: (error) => options.onError?.(error, 'nats'),
    }),
  );
}

/**
 * PostgreSQL (store and dead letters) and the queue's consumer, from the same settings and connection
 * code as createServicesBackend, for the persister, which touches neither Redis nor the publishing side.
 */
export function createConsumerBackend(config: Config, options: ServicesBackendOptions): ConsumerBackend {
  const db = openDatabase(config, options);
  const store = new KyselyChatStore(db);
  // Connected on first use, so the process's health endpoints answer (not ready) while NATS is away.
  let connected: NatsConnection | undefined;
  let consumer: Promise<QueueConsumer> | undefined;
  const openConsumer = async () => {
    connected = await connectNats(config, `${options.role}-${config.instanceId}`, options);
    return createConsumer(connected, config, options);
  };
  return {
    // Each insert is timed as a PostgreSQL dependency call.
    store: timedStore(store),
    // Shares the store's pool; closing the store closes it.
    deadLetters: new KyselyDeadLetterStore(db),
    consumer: () => (consumer ??= openConsumer()),
    close: async () => {
      await Promise.allSettled([store.close(), connected === undefined || connected.isClosed() ? Promise.resolve() : connected.drain()]);
    },
  };
}

/**
 * Redis, NATS JetStream and PostgreSQL, as named by REDIS_URL, NATS_URL and DATABASE_URL. Every
 * call through a port is timed (chat_dependency_call_duration_seconds, chat_dependency_failures_total)
 * inside a client span, so the services get dependency metrics without knowing of them.
 */
export async function createServicesBackend(config: Config, options: ServicesBackendOptions): Promise<Backend> {
  const name = `${options.role}-${config.instanceId}`;
  const onRedisError = (error: Error) => options.onError?.(error, 'redis');
  const state = new RedisSessionState({ url: config.redisUrl, cluster: config.redisCluster, recentMessages: config.recentMessages, connectionName: `${name}-state`, onError: onRedisError, publishCommits: true, publishPresence: true });
  // On the same Redis as live state, so a commit publishes its message itself (publishCommits), and a
  // presence join or leave its event (publishPresence).
  const bus = new RedisBus({ url: config.redisUrl, cluster: config.redisCluster, connectionName: `${name}-bus`, onError: onRedisError });
  const nats = await connectNats(config, name, options);
  const stream = streamOf(config);
  const queue = await JetStreamQueue.create(nats, stream);
  const sessionEvents = await JetStreamSessionEvents.create(nats, sessionEventStream(stream));
  const db = openDatabase(config, options);
  const store = new KyselyChatStore(db);
  return assembleBackend({
    kind: 'services',
    state: timedSessionState(state),
    bus: timedBus(bus),
    queue: timedQueue(queue),
    store: timedStore(store),
    // Shares the store's pool; closing the store closes it.
    deadLetters: new KyselyDeadLetterStore(db),
    sessionEvents,
    workspace: timedWorkspace(new KyselyWorkspaceStore(db)),
    people: timedPeople(new KyselyPeopleStore(db)),
    switchStore: new RedisSwitchStore(connectRedis({ url: config.redisUrl, cluster: config.redisCluster, connectionName: `${name}-switch`, onError: onRedisError })),
    rateLimiter: state.rateLimiter(),
    // Connection caps count across replicas; leases live as long as presence does without a refresh.
    slots: new SlotsOnFirstUse(() => new RedisConnectionSlots({ url: config.redisUrl, cluster: config.redisCluster, ttlMs: config.presenceTtlMs, connectionName: `${name}-slots`, onError: onRedisError })),
    makeConsumer: () => createConsumer(nats, config, options),
  });
}
