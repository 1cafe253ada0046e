import { Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL (REDIS_URL). */
  url: string;
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
export function connectRedis(options: RedisConnectionOptions, extra: Partial<RedisOptions> = {}): Redis {
  const redis = new Redis(options.url, {
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
    retryStrategy: reconnectDelay,
    enableAutoPipelining: true,
    // Closing a connection that already died otherwise keeps a 2 s timer, delaying process exit.
    disconnectTimeout: 200,
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
    ...extra,
  });
  // Without a listener ioredis reports every failed reconnect on stderr.
  redis.on('error', (error: Error) => options.onError?.(error));
  return redis;
}

/** Quits gracefully when connected, else drops the connection without waiting for Redis. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // Fall through: the connection went away while quitting.
    }
  }
  redis.disconnect();
}
