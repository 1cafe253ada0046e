import { Cluster, type ClusterOptions, type Redis, type RedisOptions } from 'ioredis';
import { TurnBatchedRedis } from './turn-batched-redis.ts';

/** A plain connection or a Redis Cluster client: the adapters use only what both offer. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL (REDIS_URL); with `cluster`, any one node of the cluster. */
  url: string;
  /**
   * REDIS_MODE=cluster: a Cluster client that learns every master from the node named and routes
   * each command to the master owning its slot, following failovers by itself.
   */
  cluster?: boolean;
  /** A command without a reply after this long fails, so callers answer `unavailable` instead of hanging. */
  commandTimeoutMs?: number;
  /** Shown by CLIENT LIST, to tell replicas' connections apart. */
  connectionName?: string;
  /** Connection errors; ioredis keeps reconnecting by itself whatever this does. */
  onError?: (error: Error) => void;
}

/** Reconnect attempts back off from 50 ms to at most 2 s, forever: service resumes when Redis returns. */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), 2_000);
}

/**
 * A client that fails fast while Redis is down: queued commands give up after one reconnect
 * attempt or the command timeout, whichever comes first, instead of waiting for Redis forever.
 */
export function connectRedis(options: RedisConnectionOptions & { cluster?: false }, extra?: Partial<RedisOptions>): Redis;
export function connectRedis(options: RedisConnectionOptions, extra?: Partial<RedisOptions>, clusterExtra?: Partial<ClusterOptions>): RedisClient;
export function connectRedis(options: RedisConnectionOptions, extra: Partial<RedisOptions> = {}, clusterExtra: Partial<ClusterOptions> = {}): RedisClient {
  const base: RedisOptions = {
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
    retryStrategy: reconnectDelay,
    // A cluster batches each node's commands with ioredis's auto-pipelining; a plain connection
    // corks its socket for the turn instead (TurnBatchedRedis), which costs half the CPU per command.
    enableAutoPipelining: options.cluster === true,
    // Closing a connection that already died otherwise keeps a 2 s timer, delaying process exit.
    disconnectTimeout: 200,
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
    ...extra,
  };
  const redis = options.cluster === true ? connectCluster(options.url, base, clusterExtra) : new TurnBatchedRedis(options.url, base);
  // Without a listener ioredis reports every failed reconnect on stderr.
  redis.on('error', (error: Error) => options.onError?.(error));
  return redis;
}

function connectCluster(url: string, base: RedisOptions, extra: Partial<ClusterOptions>): Cluster {
  const parsed = new URL(url);
  const { enableAutoPipelining, scripts, retryStrategy, ...nodeOptions } = base;
  return new Cluster([{ host: parsed.hostname, port: parsed.port === '' ? 6379 : Number(parsed.port) }], {
    redisOptions: {
      ...nodeOptions,
      ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
      ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
      ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    ...(scripts === undefined ? {} : { scripts }),
    // A master that died is replaced by its replica within the node timeout: keep finding the
    // new topology, as a plain client keeps reconnecting; commands meanwhile fail fast.
    clusterRetryStrategy: (attempt) => retryStrategy?.(attempt) ?? reconnectDelay(attempt),
    enableOfflineQueue: true,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2_000,
    slotsRefreshInterval: 2_000,
    ...extra,
  });
}

/** Quits gracefully when connected, else drops the connection without waiting for Redis. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    try {
      // A cluster's QUIT goes to every node, and one that died unnoticed never answers.
      await Promise.race([redis.quit(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('QUIT timed out')), 1_000)))]);
      return;
    } catch {
      // Fall through: the connection went away while quitting.
    } finally {
      clearTimeout(timer);
    }
  }
  redis.disconnect();
}
