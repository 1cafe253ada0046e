import type { Config } from '@chat/config';
import type { SessionEventLog, SessionState } from '@chat/core';
import { JetStreamSessionEvents, sessionEventStream } from '@chat/jetstream';
import { closeRedis, connectRedis, RedisSessionState, type RedisClient } from '@chat/redis';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, streamOf, type ServicesBackendOptions } from './services-backend.ts';

export interface EventBackendOptions extends ServicesBackendOptions {
  /** Also connect to Redis, for live state (members, presence) and keys of the process's own. */
  liveState: boolean;
}

/**
 * The parts a process that follows the streams needs (the webhooks service): the NATS connection
 * its durable consumers and streams of its own are made on, the session event stream and, when
 * asked for, live state and a Redis connection for its own keys. No PostgreSQL, no publishing side.
 */
export interface EventBackend {
  /** Owned by the backend: close() drains it. */
  readonly nats: NatsConnection;
  readonly sessionEvents: SessionEventLog;
  /** Present with `liveState`. */
  readonly state: SessionState | undefined;
  /** Present with `liveState`: keys of the process's own, beside live state. */
  readonly redis: RedisClient | undefined;
  close(): Promise<void>;
}

/** From the same settings and connection code as createServicesBackend (NATS_URL, REDIS_URL, REDIS_CLUSTER). */
export async function createEventBackend(config: Config, options: EventBackendOptions): Promise<EventBackend> {
  const name = `${options.role}-${config.instanceId}`;
  const nats = await connectNats(config, name, options);
  const sessionEvents = await JetStreamSessionEvents.create(nats, sessionEventStream(streamOf(config)));
  const onRedisError = (error: Error) => options.onError?.(error, 'redis');
  const redisOptions = { url: config.redisUrl, cluster: config.redisCluster, onError: onRedisError };
  const state = options.liveState ? new RedisSessionState({ ...redisOptions, recentMessages: config.recentMessages, connectionName: `${name}-state` }) : undefined;
  const redis = options.liveState ? connectRedis({ ...redisOptions, connectionName: `${name}-keys` }) : undefined;
  return {
    nats,
    sessionEvents,
    state,
    redis,
    close: async () => {
      await Promise.allSettled([state?.close(), redis === undefined ? undefined : closeRedis(redis), nats.isClosed() ? undefined : nats.drain()]);
    },
  };
}
