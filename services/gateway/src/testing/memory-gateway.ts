import { randomUUID } from 'node:crypto';
import { createTokenVerifier, signToken, type TokenClaims } from '@chat/auth';
import { loadConfig } from '@chat/config';
import { MemoryHub, MemoryQueue, MemorySessionState, MessageIntake, SessionDirectory, type ChatStore, type MessageQueue, type SessionState } from '@chat/core';
import { Gateway, type GatewayTuning } from '../gateway.ts';
import { silentLogger } from '../gateway-logger.ts';
import { FakeChatStore } from './fake-chat-store.ts';

export const TEST_SECRET = 'a-gateway-test-secret-of-enough-length-0123456789';

/** What replicas of one test share: live state, the bus hub, the queue and the store. */
export interface SharedBackends {
  state: SessionState;
  hub: MemoryHub;
  queue: MessageQueue;
  store: ChatStore;
}

export function memoryBackends(): SharedBackends & { state: MemorySessionState; store: FakeChatStore } {
  return { state: new MemorySessionState({ recentMessages: 1000 }), hub: new MemoryHub(), queue: new MemoryQueue(), store: new FakeChatStore() };
}

export interface StartedGateway {
  gateway: Gateway;
  /** ws://127.0.0.1:<port><path> */
  url(path: string): string;
  http(path: string): string;
}

/** Starts a gateway on a free port over the given backends; env values override the test config. */
export async function startMemoryGateway(
  backends: SharedBackends,
  options: { env?: Record<string, string>; tuning?: Partial<GatewayTuning> } = {},
): Promise<StartedGateway> {
  const config = loadConfig(
    { JWT_SECRET: TEST_SECRET, HOST: '127.0.0.1', ALLOWED_ORIGINS: 'https://chat.example', PRESENCE_TTL_MS: '3000', ...options.env },
    { requireAuth: true },
  );
  const bus = backends.hub.bus();
  const directory = new SessionDirectory({ state: backends.state, store: backends.store, queue: backends.queue });
  const intake = new MessageIntake({ state: backends.state, queue: backends.queue, bus, directory });
  const gateway = new Gateway({
    config,
    verifier: createTokenVerifier({ secret: TEST_SECRET }),
    ports: { state: backends.state, bus, intake, directory, store: backends.store, queue: backends.queue },
    logger: silentLogger,
    port: 0,
    tuning: { closeTimeoutMs: 500, ...options.tuning },
  });
  await gateway.start();
  const port = gateway.address().port;
  return { gateway, url: (path) => `ws://127.0.0.1:${port}${path}`, http: (path) => `http://127.0.0.1:${port}${path}` };
}

export function token(claims: TokenClaims): Promise<string> {
  return signToken(TEST_SECRET, claims);
}

/** Creates an open session in the store with the given members; returns its id. */
export async function createSession(store: ChatStore, members: readonly string[]): Promise<string> {
  const id = randomUUID();
  await store.createSession({ id, title: 'test', members, metadata: {}, createdAt: new Date().toISOString() });
  return id;
}
