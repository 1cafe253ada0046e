import type { Config } from '@chat/config';
import { connectRedis, RedisBus, RedisSessionState, RedisSwitchStore, RedisUserRateLimiter } from '@chat/redis';
import { JetStreamQueue, JetStreamSessionEvents, sessionEventStream, JetStreamQueueConsumer } from '@chat/jetstream';
import { createDatabase, KyselyChatStore, KyselyDeadLetterStore, KyselyPeopleStore, KyselyWorkspaceStore } from '@chat/db';
import { connect } from '@nats-io/transport-node';
import { assembleBackend, type Backend } from './backend.ts';
import { timedBus, timedConsumer, timedQueue, timedSessionState, timedPeople, timedStore, timedWorkspace } from './timed-ports.ts';

export interface ServicesBackendOptions {
  /** Names the connections in Redis CLIENT LIST and NATS monitoring. */
  role: string;
  onError?: (error: unknown, dependency: 'redis' | 'nats') => void;
  /** PostgreSQL pool size. */
  maxDbConnections?: number;
}

/**
 * Redis, NATS JetStream and PostgreSQL, as named by REDIS_URL, NATS_URL and DATABASE_URL. Every
 * call through a port is timed (chat_dependency_call_duration_seconds, chat_dependency_failures_total)
 * inside a client span, so the services get dependency metrics without knowing of them.
 */
export async function createServicesBackend(config: Config, options: ServicesBackendOptions): Promise<Backend> {
  const name = `${options.role}-${config.instanceId}`;
  const onRedisError = (error: Error) => options.onError?.(error, 'redis');
  const state = new RedisSessionState({ url: config.redisUrl, cluster: config.redisCluster, recentMessages: config.recentMessages, connectionName: `${name}-state`, onError: onRedisError });
  const bus = new RedisBus({ url: config.redisUrl, cluster: config.redisCluster, connectionName: `${name}-bus`, onError: onRedisError });
  // Waits for NATS at start-up rather than crashing, and reconnects forever afterwards.
  // noAsyncTraces: otherwise every request (each JetStream publish) builds two Error objects up
  // front to keep a stack for a timeout that almost never comes, about a tenth of the gateway's CPU.
  const nats = await connect({ servers: [...config.natsServers], name, maxReconnectAttempts: -1, waitOnFirstConnect: true, noAsyncTraces: true });
  const stream = { stream: config.queue.stream, subjectPrefix: config.queue.subjectPrefix, replicas: config.queue.replicas };
  const queue = await JetStreamQueue.create(nats, stream);
  const sessionEvents = await JetStreamSessionEvents.create(nats, sessionEventStream(stream));
  const db = createDatabase({ kind: 'postgres', url: config.databaseUrl, ...(options.maxDbConnections === undefined ? {} : { maxConnections: options.maxDbConnections }) });
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
    rateLimiter: new RedisUserRateLimiter(connectRedis({ url: config.redisUrl, cluster: config.redisCluster, connectionName: `${name}-limits`, onError: onRedisError })),
    makeConsumer: async () =>
      timedConsumer(
        await JetStreamQueueConsumer.create(nats, {
          ...stream,
          consumer: config.queue.consumer,
          batchSize: config.queue.batchSize,
          onError: (error) => options.onError?.(error, 'nats'),
        }),
      ),
  });
}
