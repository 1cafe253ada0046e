import { connectRedis, MemoryHub, MemorySessionState, RedisBus, RedisSessionState, type Bus, type SessionState } from '@chat/core';
import { realServicesAvailable, REDIS, TEST_REDIS_URL } from '../support/services.ts';

export { TEST_REDIS_URL };

export type RawRedis = ReturnType<typeof connectRedis>;

export interface StateBackend {
  name: string;
  /** False when the backend's server is unreachable outside CI (the suite then skips, loudly). */
  available: boolean;
  open(options: { recentMessages: number; now: () => number }): SessionState;
  /** Every stored key of the session, where the backend has keys to look at. */
  keysOf?(sessionId: string): Promise<string[]>;
  /** Releases what keysOf needs. */
  close(): Promise<void>;
}

export interface BusBackend {
  name: string;
  available: boolean;
  /** Buses of one backend reach each other, like replicas of a deployment. */
  open(): Bus;
  close(): Promise<void>;
}

function redisAvailable(): Promise<boolean> {
  const url = new URL(TEST_REDIS_URL);
  return realServicesAvailable({ ...REDIS, host: url.hostname, port: Number(url.port || 6379) });
}

/** Every SessionState suite runs once per backend with the same assertions. */
export async function stateBackends(): Promise<StateBackend[]> {
  const redisUp = await redisAvailable();
  let raw: RawRedis | undefined;
  const admin = (): RawRedis => (raw ??= connectRedis({ url: TEST_REDIS_URL, connectionName: 'chat-test-admin' }));
  return [
    { name: 'memory', available: true, open: (options) => new MemorySessionState(options), close: () => Promise.resolve() },
    {
      name: 'Redis',
      available: redisUp,
      open: (options) => new RedisSessionState({ url: TEST_REDIS_URL, ...options }),
      keysOf: (sessionId) => scanKeys(admin(), `sessions:{${sessionId}}:*`),
      close: async () => {
        await raw?.quit();
      },
    },
  ];
}

/** Every Bus suite runs once per backend with the same assertions. */
export async function busBackends(): Promise<BusBackend[]> {
  const redisUp = await redisAvailable();
  const hub = new MemoryHub();
  return [
    { name: 'memory', available: true, open: () => hub.bus(), close: () => Promise.resolve() },
    { name: 'Redis', available: redisUp, open: () => new RedisBus({ url: TEST_REDIS_URL }), close: () => Promise.resolve() },
  ];
}

export async function scanKeys(redis: RawRedis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}
