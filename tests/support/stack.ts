import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signToken } from '@chat/auth';
import { createChatSwitch, createServicesBackend, createVerifier, type Backend } from '@chat/composition';
import { loadConfig, type Config } from '@chat/config';
import { MemoryConnectionSlots, type ChatStore } from '@chat/core';
import { createDatabase, KyselyChatStore, migrateToLatest } from '@chat/db';
import { Gateway, type GatewayTuning } from '@chat/gateway';
import { Persister } from '@chat/persister';
import { createApiApp } from '@chat/session-api';
import { startEmbeddedChat } from '@chat/standalone';
import { createLogger } from '@chat/telemetry';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NATS, REDIS, TEST_DATABASE_URL, TEST_NATS_URL, TEST_REDIS_URL } from './services.ts';
import { TcpProxy } from './tcp-proxy.ts';

export type StackKind = 'embedded' | 'services';

export interface StackOptions {
  /** Route every part's Redis and NATS traffic through proxies the test can cut (services only). */
  proxies?: boolean;
  /** Extra environment for every part (limits, timings). */
  env?: Record<string, string>;
  tuning?: Partial<GatewayTuning>;
  /** Run without a persister, as if it had fallen behind (services only). */
  withoutPersister?: boolean;
}

export interface StackProxies {
  redis: TcpProxy;
  nats: TcpProxy;
  gatewayANats: TcpProxy;
}

export interface Stack {
  readonly kind: StackKind;
  /** Two gateway replicas, as `http://127.0.0.1:port`; their WebSockets are at the same address with `ws:`. */
  readonly gatewayUrls: readonly [string, string];
  readonly apiUrl: string;
  readonly secret: string;
  readonly config: Config;
  /** The system of record, read directly (not through a proxy) to check what is persisted. */
  readonly store: ChatStore;
  /**
   * Present when the stack was started with `proxies: true`. `gatewayANats` stands between
   * gateway-a and the `nats` proxy only: cutting it cuts that one replica from NATS.
   */
  readonly proxies?: StackProxies;
  token(userId: string, options?: { admin?: boolean; name?: string; ttlSeconds?: number; scopes?: readonly string[] }): Promise<string>;
  stop(): Promise<void>;
}

const logger = createLogger('contract', 'silent');

/**
 * Two gateway replicas, a session-api and a persister. `embedded` puts them in one process on
 * the in-process ports and PGlite, with the REST API on the gateways' port as the one-process
 * mode serves it; `services` gives each part its own Redis, NATS and PostgreSQL clients, as
 * separate processes would have, on a JetStream stream of its own.
 */
export async function startStack(kind: StackKind, options: StackOptions = {}): Promise<Stack> {
  const secret = randomBytes(32).toString('hex');
  const run = randomBytes(6).toString('hex');
  const proxies = kind === 'services' && options.proxies ? await startProxies() : undefined;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    CHAT_BACKEND: kind,
    JWT_SECRET: secret,
    HOST: '127.0.0.1',
    REDIS_URL: proxies ? `redis://127.0.0.1:${proxies.redis.port}` : TEST_REDIS_URL,
    NATS_URL: proxies ? `nats://127.0.0.1:${proxies.nats.port}` : TEST_NATS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    NATS_STREAM: `CONTRACT_${run}`,
    NATS_SUBJECT_PREFIX: `contract.${run}`,
    NATS_CONSUMER: `contract_${run}`,
    SHUTDOWN_GRACE_MS: '1000',
    PERSIST_BATCH_SIZE: '100',
    LOG_LEVEL: 'silent',
    ...options.env,
  };
  const perPart: Record<string, Record<string, string>> = proxies ? { 'gateway-a': { NATS_URL: `nats://127.0.0.1:${proxies.gatewayANats.port}` } } : {};
  const configFor = (instanceId: string) => loadConfig({ ...env, ...perPart[instanceId], INSTANCE_ID: `${instanceId}-${run}` }, { requireAuth: true });
  let parts: Parts;
  try {
    parts = kind === 'embedded' ? await embeddedParts(configFor, options) : await servicesParts(configFor, options);
  } catch (error) {
    await stopProxies(proxies);
    throw error;
  }
  const config = configFor('test');
  const token: Stack['token'] = (userId, claims = {}) => signToken(secret, { userId, ...claims });
  return {
    kind,
    ...parts,
    secret,
    config,
    token,
    ...(proxies ? { proxies } : {}),
    stop: async () => {
      await parts.stop();
      await stopProxies(proxies);
      // Past the proxies (stopped by now), on the servers they stood in front of.
      if (kind === 'services') await deleteStream(proxies ? [TEST_NATS_URL] : config.natsServers, config.queue.stream);
    },
  };
}

interface Parts {
  gatewayUrls: readonly [string, string];
  apiUrl: string;
  store: ChatStore;
  stop(): Promise<void>;
}

type ConfigFor = (instanceId: string) => Config;

/** The one-process mode itself, with two gateways; the REST API answers on the gateways' port. */
async function embeddedParts(configFor: ConfigFor, options: StackOptions): Promise<Parts> {
  const chat = await startEmbeddedChat({
    config: configFor('embedded'),
    logger,
    persistent: false,
    gateways: 2,
    port: 0,
    tuning: { closeTimeoutMs: 500, ...options.tuning },
  });
  const [a, b] = chat.gatewayUrls;
  if (a === undefined || b === undefined) throw new Error('two gateways expected');
  return { gatewayUrls: [a, b], apiUrl: chat.url, store: chat.store, stop: () => chat.stop() };
}

async function servicesParts(configFor: ConfigFor, options: StackOptions): Promise<Parts> {
  // The database the parts use: a suite may give its own in env.DATABASE_URL.
  const databaseUrl = options.env?.['DATABASE_URL'] ?? TEST_DATABASE_URL;
  const db = createDatabase({ kind: 'postgres', url: databaseUrl, maxConnections: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  const backends: Backend[] = [];
  const backendFor = async (role: string) => {
    const config = configFor(role);
    const backend = await createServicesBackend(config, { role, maxDbConnections: 4 });
    backends.push(backend);
    return { config, backend };
  };

  // Each part reads the kill switch from Redis itself, as separate processes do.
  const switches: ReturnType<typeof createChatSwitch>[] = [];
  const switchFor = async (config: Config, backend: Backend) => {
    const chatSwitch = createChatSwitch(config, backend);
    await chatSwitch.start();
    switches.push(chatSwitch);
    return chatSwitch;
  };
  const gateways: Gateway[] = [];
  for (const role of ['gateway-a', 'gateway-b']) {
    const { config, backend } = await backendFor(role);
    const chatSwitch = await switchFor(config, backend);
    // Each replica counts a user's sends through its own Redis connection, as separate processes would.
    // Open connections it counts alone: in the shared Redis the count per address would hold every
    // other run on this machine that connects from 127.0.0.1 too (a benchmark's thousands).
    const ports = { ...backend, slots: new MemoryConnectionSlots() };
    gateways.push(new Gateway({ config, verifier: createVerifier(config), ports, logger, port: 0, chatSwitch, tuning: { closeTimeoutMs: 500, ...options.tuning } }));
  }
  const apiSide = await backendFor('session-api');
  const apiSwitch = await switchFor(apiSide.config, apiSide.backend);
  const api = createApiApp({ config: apiSide.config, verifier: createVerifier(apiSide.config), ports: apiSide.backend, logger, chatSwitch: apiSwitch });
  const apiServer = createServer(api);
  const persisterSide = await backendFor('persister');
  const persister = options.withoutPersister
    ? { stop: () => Promise.resolve() }
    : runPersister(new Persister({ consumer: await persisterSide.backend.consumer(), store: persisterSide.backend.store, deadLetters: persisterSide.backend.deadLetters, logger }));
  const checker = new KyselyChatStore(createDatabase({ kind: 'postgres', url: databaseUrl, maxConnections: 2 }));

  for (const gateway of gateways) await gateway.start();
  await listen(apiServer);
  return {
    gatewayUrls: urlsOf(gateways),
    apiUrl: `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`,
    store: checker,
    stop: async () => {
      await Promise.all(gateways.map((gateway) => gateway.stop()));
      for (const chatSwitch of switches) chatSwitch.stop();
      apiServer.closeAllConnections();
      await new Promise((resolve) => apiServer.close(resolve));
      await persister.stop();
      await Promise.allSettled(backends.map((backend) => backend.close()));
      await checker.close();
    },
  };
}

/** Runs the persister until stop(), which lets it finish the batch in hand. */
function runPersister(persister: Persister): { stop(): Promise<void> } {
  const controller = new AbortController();
  const running = persister.run(controller.signal);
  return {
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}

function urlsOf(gateways: readonly Gateway[]): readonly [string, string] {
  const [a, b] = gateways.map((gateway) => `http://127.0.0.1:${gateway.address().port}`);
  if (a === undefined || b === undefined) throw new Error('two gateways expected');
  return [a, b];
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

async function startProxies(): Promise<StackProxies> {
  const redis = new TcpProxy(hostAndPort(TEST_REDIS_URL, REDIS.port));
  const nats = new TcpProxy(hostAndPort(TEST_NATS_URL, NATS.port));
  await redis.start();
  await nats.start();
  const gatewayANats = new TcpProxy({ host: '127.0.0.1', port: nats.port });
  await gatewayANats.start();
  return { redis, nats, gatewayANats };
}

async function stopProxies(proxies: StackProxies | undefined): Promise<void> {
  await proxies?.gatewayANats.stop();
  await proxies?.redis.stop();
  await proxies?.nats.stop();
}

function hostAndPort(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: parsed.port === '' ? defaultPort : Number(parsed.port) };
}

async function deleteStream(servers: readonly string[], stream: string): Promise<void> {
  const nc = await connect({ servers: [...servers] });
  try {
    await (await jetstreamManager(nc, { checkAPI: false })).streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}
