import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { JetStreamQueue } from '@chat/jetstream';
import { createDatabase, KyselyChatStore, KyselyDeadLetterStore, migrateToLatest, type Database } from '@chat/db';
import type { ChatMessage } from '@chat/protocol';
import { connect } from '@nats-io/transport-node';
import type { Kysely } from 'kysely';
import { TEST_DATABASE_URL, TEST_NATS_URL } from '../support/services.ts';
import { deleteStream, randomStream } from '../queue/queue-harness.ts';
import { chatMessage } from '../support/chat-messages.ts';
import { waitFor } from '../support/wait.ts';

export { TEST_DATABASE_URL, TEST_NATS_URL };

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A stream, subject prefix and durable consumer of the test's own, on the shared NATS and PostgreSQL. */
export class PersisterFixture {
  readonly names = { ...randomStream(), consumer: `persister_${randomUUID().slice(0, 8)}` };
  readonly db: Kysely<Database>;
  readonly store: KyselyChatStore;
  readonly deadLetters: KyselyDeadLetterStore;
  readonly children = new Set<ChildProcess>();
  readonly natsUrl: string;
  readonly databaseUrl: string;
  #queue: JetStreamQueue | undefined;

  constructor(options: { natsUrl?: string; databaseUrl?: string } = {}) {
    this.natsUrl = options.natsUrl ?? TEST_NATS_URL;
    this.databaseUrl = options.databaseUrl ?? TEST_DATABASE_URL;
    this.db = createDatabase({ kind: 'postgres', url: this.databaseUrl });
    this.store = new KyselyChatStore(this.db);
    this.deadLetters = new KyselyDeadLetterStore(this.db);
  }

  get queueOptions() {
    return { stream: this.names.stream, subjectPrefix: this.names.subjectPrefix, consumer: this.names.consumer, replicas: 1 };
  }

  async open(): Promise<this> {
    await migrateToLatest(this.db);
    this.#queue = await JetStreamQueue.create(await connect({ servers: this.natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 200 }), this.queueOptions);
    return this;
  }

  get queue(): JetStreamQueue {
    if (this.#queue === undefined) throw new Error('open() the fixture first');
    return this.#queue;
  }

  /** Publishes `perSession` messages in each of `sessions` fresh sessions, with concurrency. */
  async publish(sessions: number, perSession: number): Promise<ChatMessage[]> {
    const sessionIds = Array.from({ length: sessions }, () => randomUUID());
    const sent = sessionIds.flatMap((sessionId) => Array.from({ length: perSession }, (_, index) => message(sessionId, index + 1)));
    for (let start = 0; start < sent.length; start += 500) await Promise.all(sent.slice(start, start + 500).map((item) => this.queue.publish(item)));
    return sent;
  }

  async countRows(sent: readonly ChatMessage[]): Promise<number> {
    const sessionIds = [...new Set(sent.map((item) => item.sessionId))];
    const row = await this.db
      .selectFrom('chat_messages')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('session_id', 'in', sessionIds)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Every published message, read back through the store, per session in seq order. */
  async storedMessages(sent: readonly ChatMessage[]): Promise<ChatMessage[]> {
    const sessionIds = [...new Set(sent.map((item) => item.sessionId))];
    const pages = await Promise.all(sessionIds.map((sessionId) => this.store.history(sessionId, { limit: 500 })));
    return pages.flatMap((page) => page.messages);
  }

  /** `node services/persister/src/main.ts` with the fixture's stream and consumer. */
  spawnPersister(env: Record<string, string> = {}): ChildProcess {
    const child = spawn(process.execPath, ['services/persister/src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        NATS_URL: this.natsUrl,
        DATABASE_URL: this.databaseUrl,
        NATS_STREAM: this.names.stream,
        NATS_SUBJECT_PREFIX: this.names.subjectPrefix,
        NATS_CONSUMER: this.names.consumer,
        PERSISTER_PORT: '0',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code, signal) => {
      this.children.delete(child);
      if (code !== 0 && code !== null && signal === null) console.error(`persister exited with ${code}: ${stderr}`);
    });
    this.children.add(child);
    return child;
  }

  async dispose(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    await this.#queue?.close();
    await this.db.destroy();
    await deleteStream(this.names.stream, this.natsUrl);
  }
}

/** A message row as the persister suites publish it: its body names the session, its metadata the seq. */
export function message(sessionId: string, seq: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return chatMessage(sessionId, seq, { body: `message ${seq} in ${sessionId.slice(0, 8)}`, metadata: { n: seq }, timestamp: new Date(Date.UTC(2026, 0, 1) + seq).toISOString(), ...extra });
}

export function eventually(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  return waitFor(what, condition, timeoutMs, 50);
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

export function byId(messages: readonly ChatMessage[]): ChatMessage[] {
  return [...messages].sort((a, b) => a.id.localeCompare(b.id));
}
