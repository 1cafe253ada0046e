import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken, type TokenClaims } from '@chat/auth';
import { createDatabase, KyselyChatStore } from '@chat/db';
import type { ChatMessage } from '@chat/protocol';
import { ServiceProcess, startStack } from '../e2e/stack.ts';
import { TEST_DATABASE_URL } from '../support/services.ts';

export type TargetKind = 'services' | 'embedded';

/**
 * The system as separate OS processes, so a crash is a dead process rather than a failed test:
 * `services` runs two gateways, a session-api and a persister on the machine's Redis, NATS and
 * PostgreSQL; `embedded` runs the one-process mode (`apps/standalone`) on PGlite.
 */
export interface ProcessTarget {
  readonly kind: TargetKind;
  /** `http://127.0.0.1:port` of each gateway. */
  readonly gatewayUrls: readonly string[];
  readonly apiUrl: string;
  token(claims: TokenClaims): Promise<string>;
  /** Every process of the target is still running. */
  running(): boolean;
  /** The last output of the processes, for failure messages. */
  output(): string;
  /** The session's messages in the system of record once it holds at least `count` of them. */
  persisted(sessionId: string, count: number, timeoutMs?: number): Promise<ChatMessage[]>;
  /** Stops and starts the processes again (their in-memory state is gone afterwards). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTarget(kind: TargetKind): Promise<ProcessTarget> {
  return kind === 'services' ? startServices() : startEmbedded();
}

async function startServices(): Promise<ProcessTarget> {
  const stack = await startStack('http://fuzz.invalid');
  const store = new KyselyChatStore(createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 2 }));
  const processes = [stack.api, stack.persister, ...stack.gateways];
  return {
    kind: 'services',
    gatewayUrls: stack.gateways.map((gateway) => `http://127.0.0.1:${gateway.port}`),
    apiUrl: `http://127.0.0.1:${stack.api.port}`,
    token: (claims) => signToken(stack.secret, claims),
    running: () => processes.every((process) => process.running),
    output: () => processes.map((process) => `--- ${process.name}\n${process.output}`).join('\n'),
    persisted: (sessionId, count, timeoutMs) => waitFor(() => store.history(sessionId, { after: 0, limit: 500 }).then((page) => page.messages), count, timeoutMs),
    restart: async () => {
      for (const process of processes) await process.stop();
      for (const process of processes) await process.start();
    },
    stop: async () => {
      await stack.stop();
      await store.close();
    },
  };
}

async function startEmbedded(): Promise<ProcessTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-hostile-'));
  const secret = randomBytes(32).toString('hex');
  const chat = await ServiceProcess.startOnFreePort('standalone', 'apps/standalone/src/main.ts', (port) => ({
    NODE_ENV: 'test',
    JWT_SECRET: secret,
    DATA_DIR: dataDir,
    GATEWAY_PORT: String(port),
    HOST: '127.0.0.1',
    ALLOWED_ORIGINS: 'http://fuzz.invalid',
    RATE_LIMIT_BURST: '100',
    LOG_LEVEL: 'warn',
  }));
  const url = `http://127.0.0.1:${chat.port}`;
  const token = (claims: TokenClaims) => signToken(secret, claims);
  return {
    kind: 'embedded',
    gatewayUrls: [url],
    apiUrl: url,
    token,
    running: () => chat.running,
    output: () => chat.output,
    // The REST history of the one process: after restart() it can only come from PGlite.
    persisted: async (sessionId, count, timeoutMs) => {
      const jwt = await token({ userId: ADMIN_ID, admin: true });
      return waitFor(async () => {
        const response = await fetch(`${url}/api/chat/history/${sessionId}?after=0&limit=500`, { headers: { authorization: `Bearer ${jwt}` } });
        if (!response.ok) throw new Error(`history answered ${response.status}`);
        return ((await response.json()) as { messages: ChatMessage[] }).messages;
      }, count, timeoutMs);
    },
    restart: async () => {
      await chat.stop();
      await chat.start();
    },
    stop: async () => {
      await chat.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The admin the suites act as when reading history. */
export const ADMIN_ID = '00000000-0000-4000-8000-00000000ad01';

async function waitFor(read: () => Promise<ChatMessage[]>, count: number, timeoutMs = 10_000): Promise<ChatMessage[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = await read();
    if (messages.length >= count) return messages;
    if (Date.now() > deadline) throw new Error(`the store holds ${messages.length} of ${count} messages after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
