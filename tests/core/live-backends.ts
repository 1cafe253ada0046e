import type { Redis } from 'ioredis';
import { MemoryHub, MemorySessionState, type Bus, type SessionState } from '@chat/core';
import { closeRedis, connectRedis, type RedisClient, RedisBus, RedisSessionState } from '@chat/redis';
import { OwnRedisCluster } from '../support/own-redis-cluster.ts';
import { realServicesAvailable, REDIS, TEST_REDIS_URL } from '../support/services.ts';

export { TEST_REDIS_URL };

export type RawRedis = ReturnType<typeof connectRedis>;

export interface StateBackend {
  name: string;
  /** False when the backend's server is unreachable outside CI (the suite then skips, loudly). */
  available: boolean;
  /** Brings up what the backend runs on (a Redis Cluster of the suite's own). */
  start?(): Promise<void>;
  open(options: { recentMessages: number; now: () => number }): SessionState;
  /** Every stored key of the session, where the backend has keys to look at. */
  keysOf?(sessionId: string): Promise<string[]>;
  /** Releases what keysOf needs. */
  close(): Promise<void>;
}

export interface BusBackend {
  name: string;
  available: boolean;
  start?(): Promise<void>;
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
    clusterStateBackend(),
  ];
}

/** Ports of this suite's own clusters: 3 masters and 3 replicas each. */
const STATE_CLUSTER_PORT = 29101;
const BUS_CLUSTER_PORT = 29111;
/** Six redis-servers starting on a busy CI machine answer the cluster's ready check slowly. */
const LOADED_MACHINE_TIMEOUT_MS = 5_000;

/** The same assertions on a 3-master, 3-replica Redis Cluster: every script must stay on one slot. */
function clusterStateBackend(): StateBackend {
  const cluster = new OwnRedisCluster(STATE_CLUSTER_PORT, { replicas: 1 });
  let admin: RedisClient | undefined;
  return {
    name: 'Redis Cluster',
    available: true,
    start: () => cluster.start(),
    open: (options) => new RedisSessionState({ url: cluster.url, cluster: true, commandTimeoutMs: LOADED_MACHINE_TIMEOUT_MS, ...options }),
    keysOf: async (sessionId) => {
      admin ??= connectRedis({ url: cluster.url, cluster: true, connectionName: 'chat-test-admin' });
      const found: string[] = [];
      // Every key of a session hashes to one slot, so one master holds them all.
      if (!('nodes' in admin)) throw new Error('expected a cluster client');
      for (const node of admin.nodes('master')) found.push(...(await scanKeys(node, `sessions:{${sessionId}}:*`)));
      return found;
    },
    close: async () => {
      if (admin) await closeRedis(admin);
      await cluster.stop();
    },
  };
}

/** Every Bus suite runs once per backend with the same assertions. */
export async function busBackends(): Promise<BusBackend[]> {
  const redisUp = await redisAvailable();
  const hub = new MemoryHub();
  return [
    { name: 'memory', available: true, open: () => hub.bus(), close: () => Promise.resolve() },
    { name: 'Redis', available: redisUp, open: () => new RedisBus({ url: TEST_REDIS_URL }), close: () => Promise.resolve() },
    clusterBusBackend(),
  ];
}

function clusterBusBackend(): BusBackend {
  const cluster = new OwnRedisCluster(BUS_CLUSTER_PORT, { replicas: 1 });
  return { name: 'Redis Cluster', available: true, start: () => cluster.start(), open: () => new RedisBus({ url: cluster.url, cluster: true, commandTimeoutMs: LOADED_MACHINE_TIMEOUT_MS }), close: () => cluster.stop() };
}

export async function scanKeys(redis: RawRedis | Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}
