import { randomUUID } from 'node:crypto';
import { signToken } from '@chat/auth';
import { createConsumerBackend, createServicesBackend, createVerifier } from '@chat/composition';
import { loadConfig } from '@chat/config';
import type { Bus, ChatStore } from '@chat/core';
import { connectRedis, RedisBus } from '@chat/redis';
import { createDatabase, migrateToLatest } from '@chat/db';
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
  store: ChatStore;
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
  const env = {
    JWT_SECRET: SECRET,
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: options.redisUrl ?? TEST_REDIS_URL,
    NATS_URL: options.natsUrl ?? TEST_NATS_URL,
    NATS_STREAM: `TEST_API_${suffix}`,
    NATS_SUBJECT_PREFIX: `test.api.${suffix}`,
    RATE_LIMIT_PER_SEC: '1000',
    RATE_LIMIT_BURST: '1000',
    ...(options.recentMessages === undefined ? {} : { RECENT_MESSAGES: String(options.recentMessages) }),
  };
  const config = loadConfig(env, { requireAuth: true });
  const db = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  // Reconnects forever, and soon: outage tests cut Redis or NATS and bring it back.
  const backend = await createServicesBackend(config, { role: 'session-api-test', natsReconnectWaitMs: 200 });
  // The persister's side reaches NATS directly, never through a proxy a test cuts.
  const persisterSide = createConsumerBackend(loadConfig({ ...env, NATS_URL: TEST_NATS_URL, PERSIST_BATCH_SIZE: '100' }), { role: 'session-api-test-persister' });
  const { state, store, queue } = backend;
  const watcher = new RedisBus({ url: TEST_REDIS_URL });
  const readiness = new Readiness()
    .add('postgres', () => store.ping())
    .add('redis', () => state.ping())
    .add('nats', () => queue.ping());
  const app = createApiApp({
    config,
    verifier: createVerifier(config),
    // The ports this stack has always given the API: its send budgets are counted in process.
    ports: { state, bus: backend.bus, intake: backend.intake, directory: backend.directory, store, queue },
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
    await (await persisterSide.consumer()).run(controller.signal, async (batch) => {
      const messages = batch.map((queued) => JSON.parse(new TextDecoder().decode(queued.data)) as ChatMessage);
      written += await persisterSide.store.insertMessages(messages);
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
      await Promise.allSettled([backend.close(), persisterSide.close(), watcher.close(), admin.quit()]);
      const nc = await connect({ servers: TEST_NATS_URL });
      try {
        await (await jetstreamManager(nc)).streams.delete(config.queue.stream).catch(() => false);
      } finally {
        await nc.close();
      }
    },
  };
}

export async function bearer(userId: string, admin = false): Promise<string> {
  return `Bearer ${await signToken(SECRET, { userId, admin })}`;
}
