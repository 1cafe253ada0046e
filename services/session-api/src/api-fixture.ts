import { Writable } from 'node:stream';
import { createTokenVerifier, signToken } from '@chat/auth';
import { loadConfig } from '@chat/config';
import { MemoryHub, MemorySessionState, MessageIntake, SessionDirectory, type Bus, type MessageQueue, type PublishOutcome } from '@chat/core';
import { createDatabase, KyselyChatStore, KyselyDeadLetterStore, migrateToLatest } from '@chat/db';
import type { ChatMessage } from '@chat/protocol';
import type { Readiness } from '@chat/service-kit';
import { createLogger } from '@chat/telemetry';
import type { Express } from 'express';
import { createApiApp } from './api-app.ts';

export const SECRET = 'test-secret-that-is-at-least-32-characters-long';

/**
 * Stands in for JetStream in unit tests: a publish is taken once recorded, like a PubAck; can be
 * made to fail, or to hold its answer until released.
 */
export class RecordingQueue implements MessageQueue {
  readonly published: ChatMessage[] = [];
  failing = false;
  /** While set, each publish waits for it before it is recorded and answered. */
  hold: Promise<void> | undefined;
  /** Messages whose publish has started, answered or not. */
  readonly attempted: ChatMessage[] = [];

  async publish(message: ChatMessage): Promise<PublishOutcome> {
    this.attempted.push(message);
    if (this.hold !== undefined) await this.hold;
    if (this.failing) throw new Error('queue down');
    const key = (m: ChatMessage) => `${m.userId}:${m.clientMsgId ?? m.id}`;
    const first = this.published.find((seen) => seen.sessionId === message.sessionId && key(seen) === key(message));
    if (first) return { duplicate: true, first };
    this.published.push(message);
    return { duplicate: false };
  }

  ready(): boolean {
    return true;
  }

  lastSeq(sessionId: string): Promise<number> {
    return Promise.resolve(Math.max(0, ...this.published.filter((m) => m.sessionId === sessionId).map((m) => m.seq)));
  }

  range(sessionId: string, afterSeq: number, beforeSeq: number, limit: number): Promise<ChatMessage[]> {
    const found = this.published.filter((m) => m.sessionId === sessionId && m.seq > afterSeq && m.seq < beforeSeq);
    return Promise.resolve(found.sort((a, b) => a.seq - b.seq).slice(0, limit));
  }

  ping(): Promise<void> {
    return this.failing ? Promise.reject(new Error('queue down')) : Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface Fixture {
  app: Express;
  store: KyselyChatStore;
  deadLetters: KyselyDeadLetterStore;
  state: MemorySessionState;
  queue: RecordingQueue;
  /** A second process's bus on the same hub, to watch what the API fans out. */
  watcher: Bus;
  logLines: string[];
  close(): Promise<void>;
}

/** The API over in-memory live state and bus, a recording queue and a PGlite store. */
export async function createFixture(options: { env?: Record<string, string>; recentMessages?: number; readiness?: Readiness } = {}): Promise<Fixture> {
  const config = loadConfig({ JWT_SECRET: SECRET, ...options.env }, { requireAuth: true });
  const db = createDatabase({ kind: 'pglite' });
  await migrateToLatest(db);
  const store = new KyselyChatStore(db);
  const deadLetters = new KyselyDeadLetterStore(db);
  const state = new MemorySessionState({ recentMessages: options.recentMessages ?? config.recentMessages });
  const hub = new MemoryHub();
  const bus = hub.bus();
  const watcher = hub.bus();
  const queue = new RecordingQueue();
  const directory = new SessionDirectory({ state, store, queue });
  const intake = new MessageIntake({ state, queue, bus, directory });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger('session-api', 'debug', sink);
  const app = createApiApp({
    config,
    verifier: createTokenVerifier({ secret: SECRET }),
    ports: { state, bus, intake, directory, store, deadLetters, queue },
    logger,
    ...(options.readiness === undefined ? {} : { readiness: options.readiness }),
  });
  return { app, store, deadLetters, state, queue, watcher, logLines, close: () => store.close() };
}

export function bearer(userId: string, extra: { admin?: boolean; ttlSeconds?: number; name?: string; secret?: string } = {}): Promise<string> {
  return signToken(extra.secret ?? SECRET, {
    userId,
    ...(extra.admin === undefined ? {} : { admin: extra.admin }),
    ...(extra.ttlSeconds === undefined ? {} : { ttlSeconds: extra.ttlSeconds }),
    ...(extra.name === undefined ? {} : { name: extra.name }),
  }).then((token) => `Bearer ${token}`);
}
