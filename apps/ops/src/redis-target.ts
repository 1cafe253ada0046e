import { Cluster, Redis } from 'ioredis';

/**
 * A client for REDIS_URL: a plain connection, or with `cluster` a Cluster client that finds every
 * master from the one node named. Operator commands wait for Redis a little longer than services.
 */
export function connectTarget(url: string, cluster: boolean): Redis | Cluster {
  const parsed = new URL(url);
  const auth = {
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
  };
  if (!cluster) return new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 5_000 });
  return new Cluster([{ host: parsed.hostname, port: parsed.port === '' ? 6379 : Number(parsed.port) }], {
    redisOptions: { ...auth, connectTimeout: 5_000, ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}) },
  });
}

/** Waits until a cluster client knows its masters (a plain client connects on first command). */
export async function ready(redis: Redis | Cluster): Promise<void> {
  if (redis instanceof Cluster && redis.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', () => resolve());
      redis.once('error', reject);
    });
  }
}
