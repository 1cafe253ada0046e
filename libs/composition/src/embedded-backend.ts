import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@chat/config';
import { MemoryConnectionSlots, MemoryHub, MemoryQueue, MemorySessionEvents, MemorySessionState, MemorySwitchStore, MemoryUserRateLimiter, type Bus } from '@chat/core';
import { createDatabase, KyselyChatStore, KyselyDeadLetterStore, KyselyPeopleStore, KyselyWorkspaceStore, migrateToLatest } from '@chat/db';
import { assembleBackend, type Backend } from './backend.ts';

export interface EmbeddedBackendOptions {
  /** Keep the database in DATA_DIR (true) or in memory (false, for tests). */
  persistent: boolean;
  /** The in-process queue to use; a new one by default (tests give one they can make fail). */
  queue?: MemoryQueue;
}

/** PGlite creates its own folder but not the ones above it, so a new DATA_DIR is made here. */
function databaseDir(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  return join(dataDir, 'pg');
}

/**
 * Everything in one process: in-process live state, fan-out and queue, and PGlite as the store,
 * which runs the same migrations and queries as PostgreSQL. Parts that share the process share
 * this one backend (several gateways get their own bus from `hub`).
 */
export async function createEmbeddedBackend(config: Config, options: EmbeddedBackendOptions): Promise<Backend & { hub: MemoryHub; newBus(): Bus }> {
  const db = createDatabase({ kind: 'pglite', ...(options.persistent ? { dataDir: databaseDir(config.dataDir) } : {}) });
  await migrateToLatest(db);
  const hub = new MemoryHub();
  const queue = options.queue ?? new MemoryQueue();
  const backend = assembleBackend({
    kind: 'embedded',
    state: new MemorySessionState({ recentMessages: config.recentMessages }),
    bus: hub.bus(),
    queue,
    store: new KyselyChatStore(db),
    deadLetters: new KyselyDeadLetterStore(db),
    workspace: new KyselyWorkspaceStore(db),
    people: new KyselyPeopleStore(db),
    switchStore: new MemorySwitchStore(),
    sessionEvents: new MemorySessionEvents(),
    rateLimiter: new MemoryUserRateLimiter(),
    // One count of open connections for every gateway of the process.
    slots: new MemoryConnectionSlots(),
    makeConsumer: () => Promise.resolve(queue.consumer({ batchSize: config.queue.batchSize })),
  });
  return { ...backend, hub, newBus: () => hub.bus() };
}
