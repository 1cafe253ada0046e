import { randomUUID } from 'node:crypto';
import { createTokenVerifier, signToken } from '@chat/auth';
import { loadConfig } from '@chat/config';
import { MessageIntake, SessionDirectory, type Bus } from '@chat/core';
import { connectRedis, RedisBus, RedisSessionState } from '@chat/redis';
import { JetStreamQueue, JetStreamQueueConsumer } from '@chat/jetstream';
import { createDatabase, KyselyChatStore, migrateToLatest } from '@chat/db';
import type { ChatMessage, ErrorBody } from '@chat/protocol';
import { createApiApp } from '@chat/session-api';
import { Readiness } from '@chat/service-kit';
import { createLogger } from '@chat/telemetry';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_DATABASE_URL, TEST_NATS_URL, TEST_REDIS_URL } from '../support/services.ts';

export const SECRET = 'integration-secret-that-is-at-least-32-characters';

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RealStack {
  /** Calls the API over HTTP; `auth` is the Authorization header, if any. */
  call<T = ErrorBody>(method: string, path: string, options?: { auth?: string; body?: unknown }): Promise<ApiAnswer<T>>;
  store: KyselyChatStore;
  /** Another replica's bus, to watch what reaches every gateway. */
  watcher: Bus;
  readiness: Readiness;
  /** Plays the persister: drains what JetStream holds for the test's stream into PostgreSQL. */
  persist(): Promise<number>;
  /** The session's keys in Redis. */
  redisKeys(sessionId: string): Promise<string[]>;
  /** Deletes the session's keys behind the API's back, as an evicting or restarted Redis would. */
  dropLiveState(sessionId: string): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * The session-api over the real Redis, NATS JetStream and PostgreSQL, with a stream and subject
 * prefix of its own (deleted on dispose) so parallel suites never see each other's messages.
 */
export async function openRealStack(options: { recentMessages?: number; redisUrl?: string; natsUrl?: string } = {}): Promise<RealStack> {
  const suffix = randomUUID().replaceAll('-', '');
  const streamOptions = { stream: `TEST_API_${suffix}`, subjectPrefix: `test.api.${suffix}`, replicas: 1 };
  const config = loadConfig({
    JWT_SECRET: SECRET,
    NATS_STREAM: streamOptions.stream,
    NATS_SUBJECT_PREFIX: streamOptions.subjectPrefix,
    RATE_LIMIT_PER_SEC: '1000',
    RATE_LIMIT_BURST: '1000',
  }, { requireAuth: true });
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const db = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL });
  await migrateToLatest(db);
  const store = new KyselyChatStore(db);
  const state = new RedisSessionState({ url: redisUrl, recentMessages: options.recentMessages ?? config.recentMessages });
  const bus = new RedisBus({ url: redisUrl });
  const watcher = new RedisBus({ url: TEST_REDIS_URL });
  const queueConnection = await connect({ servers: options.natsUrl ?? TEST_NATS_URL, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const queue = await JetStreamQueue.create(queueConnection, { ...streamOptions, publishTimeoutMs: 2_000 });
  const consumerConnection = await connect({ servers: TEST_NATS_URL });
  const consumer = await JetStreamQueueConsumer.create(consumerConnection, { ...streamOptions, consumer: 'persister', batchSize: 100 });
  const directory = new SessionDirectory({ state, store, queue });
  const intake = new MessageIntake({ state, queue, bus, directory });
  const readiness = new Readiness()
    .add('postgres', () => store.ping())
    .add('redis', () => state.ping())
    .add('nats', () => queue.ping());
  const app = createApiApp({
    config,
    verifier: createTokenVerifier({ secret: SECRET }),
    ports: { state, bus, intake, directory, store, queue },
    logger: createLogger('session-api', 'silent'),
    readiness,
  });
  const admin = connectRedis({ url: TEST_REDIS_URL });

  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function call<T>(method: string, path: string, options: { auth?: string; body?: unknown } = {}): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = {};
    if (options.auth !== undefined) headers['authorization'] = options.auth;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T, headers: res.headers };
  }

  async function persist(): Promise<number> {
    const controller = new AbortController();
    let written = 0;
    let idleTimer = setTimeout(() => controller.abort(), 1_500);
    await consumer.run(controller.signal, async (batch) => {
      const messages = batch.map((queued) => JSON.parse(new TextDecoder().decode(queued.data)) as ChatMessage);
      written += await store.insertMessages(messages);
      for (const queued of batch) queued.ack();
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => controller.abort(), 500);
    });
    clearTimeout(idleTimer);
    return written;
  }

  async function redisKeys(sessionId: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await admin.scan(cursor, 'MATCH', `sessions:{${sessionId}}:*`, 'COUNT', 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  }

  return {
    call,
    store,
    watcher,
    readiness,
    persist,
    redisKeys,
    dropLiveState: async (sessionId) => {
      const keys = await redisKeys(sessionId);
      if (keys.length > 0) await admin.del(...keys);
    },
    dispose: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await Promise.allSettled([state.close(), bus.close(), watcher.close(), queue.close(), consumerConnection.close(), store.close(), admin.quit()]);
      const nc = await connect({ servers: TEST_NATS_URL });
      try {
        await (await jetstreamManager(nc)).streams.delete(streamOptions.stream).catch(() => false);
      } finally {
        await nc.close();
      }
    },
  };
}

export async function bearer(userId: string, admin = false): Promise<string> {
  return `Bearer ${await signToken(SECRET, { userId, admin })}`;
}
