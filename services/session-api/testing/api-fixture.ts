import { Writable } from 'node:stream';
import { signToken } from '@chat/auth';
import { createEmbeddedBackend, createVerifier } from '@chat/composition';
import { loadConfig } from '@chat/config';
import { MemoryQueue, type Bus, type ChatStore, type DeadLetterStore, type PublishOutcome, type QueueHeaders, type QueueKeySource, type SessionState, type WorkspaceStore } from '@chat/core';
import type { ChatMessage } from '@chat/protocol';
import type { Readiness } from '@chat/service-kit';
import { createLogger } from '@chat/telemetry';
import type { Express } from 'express';
import type { ApiPorts } from '../src/api-deps.ts';
import { createApiApp } from '../src/index.ts';

export const SECRET = 'test-secret-that-is-at-least-32-characters-long';

/**
 * The in-process queue, recording what it was given; can be made to fail, or to hold its answer
 * until released, to stand in for JetStream being away or slow.
 */
export class RecordingQueue extends MemoryQueue {
  readonly published: ChatMessage[] = [];
  failing = false;
  /** While set, each publish waits for it before it is recorded and answered. */
  hold: Promise<void> | undefined;
  /** Messages whose publish has started, answered or not. */
  readonly attempted: ChatMessage[] = [];

  override async publish(message: ChatMessage, headers?: QueueHeaders, keyOf?: QueueKeySource): Promise<PublishOutcome> {
    this.attempted.push(message);
    if (this.hold !== undefined) await this.hold;
    if (this.failing) throw new Error('queue down');
    const outcome = await super.publish(message, headers, keyOf);
    if (!outcome.duplicate) this.published.push(message);
    return outcome;
  }

  override ping(): Promise<void> {
    return this.failing ? Promise.reject(new Error('queue down')) : super.ping();
  }
}

export interface Fixture {
  app: Express;
  store: ChatStore;
  deadLetters: DeadLetterStore;
  state: SessionState;
  queue: RecordingQueue;
  /** The backend's workspace, which the app was not given (see `ports`). */
  workspace: WorkspaceStore;
  /** A second process's bus on the same hub, to watch what the API fans out. */
  watcher: Bus;
  logLines: string[];
  /** The ports the app was given, to build another app over the same backend with some replaced. */
  ports: ApiPorts;
  close(): Promise<void>;
}

/** The API over the embedded backend (in-memory live state and bus, PGlite) with a recording queue. */
export async function createFixture(options: { env?: Record<string, string>; recentMessages?: number; readiness?: Readiness } = {}): Promise<Fixture> {
  const config = loadConfig(
    { JWT_SECRET: SECRET, ...(options.recentMessages === undefined ? {} : { RECENT_MESSAGES: String(options.recentMessages) }), ...options.env },
    { requireAuth: true },
  );
  const queue = new RecordingQueue();
  const backend = await createEmbeddedBackend(config, { persistent: false, queue });
  const { state, bus, intake, directory, store, deadLetters } = backend;
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger('session-api', 'debug', sink);
  // The ports these suites have always had: no workspace, people or session events, budgets counted by the app.
  const ports: ApiPorts = { state, bus, intake, directory, store, deadLetters, queue };
  const app = createApiApp({
    config,
    verifier: createVerifier(config),
    ports,
    logger,
    ...(options.readiness === undefined ? {} : { readiness: options.readiness }),
  });
  return { app, store, deadLetters, state, queue, workspace: backend.workspace, watcher: backend.newBus(), logLines, ports, close: () => backend.close() };
}

export function bearer(userId: string, extra: { admin?: boolean; ttlSeconds?: number; name?: string; secret?: string } = {}): Promise<string> {
  return signToken(extra.secret ?? SECRET, {
    userId,
    ...(extra.admin === undefined ? {} : { admin: extra.admin }),
    ...(extra.ttlSeconds === undefined ? {} : { ttlSeconds: extra.ttlSeconds }),
    ...(extra.name === undefined ? {} : { name: extra.name }),
  }).then((token) => `Bearer ${token}`);
}
