import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { createDatabase, migrateToLatest, type Database } from '@chat/db';
import { PersisterWorker } from '@chat/persister';
import type { ChatMessage } from '@chat/protocol';
import { startTelemetry, type Telemetry } from '@chat/telemetry';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { sql, type Kysely } from 'kysely';
import { describeWithServices, NATS, POSTGRES } from '../support/services.ts';
import { eventually, message, PersisterFixture, TEST_DATABASE_URL, TEST_NATS_URL } from './persister-fixture.ts';
import { silentLogger } from './silent-logger.ts';

const describeReal = await describeWithServices(POSTGRES, NATS);

/**
 * A database of the suite's own: the tests add a CHECK constraint to chat_messages and hide the
 * dead-letter table, which must not touch the database other suites share.
 */
async function ownDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `dead_letters_${randomUUID().replaceAll('-', '')}`;
  const admin = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
  await sql`create database ${sql.id(name)}`.execute(admin);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const db = createDatabase({ kind: 'postgres', url: url.toString(), maxConnections: 1 });
  await migrateToLatest(db);
  await db.destroy();
  return {
    url: url.toString(),
    drop: async () => {
      await sql`drop database ${sql.id(name)} with (force)`.execute(admin);
      await admin.destroy();
    },
  };
}

describeReal('a persister meeting a message the store refuses', () => {
  let database: { url: string; drop: () => Promise<void> };
  let telemetry: Telemetry;
  let fixture: PersisterFixture | undefined;
  let worker: PersisterWorker | undefined;
  let nc: NatsConnection | undefined;

  beforeAll(async () => {
    database = await ownDatabase();
    telemetry = startTelemetry({ serviceName: 'persister', instanceId: 'dead-letter-test' });
  }, 60_000);

  afterAll(async () => {
    await telemetry.shutdown();
    await database.drop();
  });

  afterEach(async () => {
    await worker?.stop();
    await nc?.close();
    await fixture?.dispose();
  });

  async function start(current: PersisterFixture): Promise<() => Promise<number>> {
    const { metrics } = telemetry;
    worker = new PersisterWorker({
      natsServers: TEST_NATS_URL,
      connectionName: 'dead-letter-test',
      queue: { ...current.queueOptions, batchSize: 20 },
      store: current.store,
      deadLetters: current.deadLetters,
      logger: silentLogger,
      metrics: {
        batchWritten: () => undefined,
        lag: () => undefined,
        deadLettered: (reason) => metrics.deadLetters.add(1, { reason }),
        deadLettersOpen: (count) => metrics.deadLettersOpen.record(count),
      },
      retry: { delayMs: 100, maxDelayMs: 400, maxAttempts: 3 },
    });
    nc = await connect({ servers: TEST_NATS_URL });
    const jsm = await jetstreamManager(nc);
    await worker.start();
    return async () => {
      const info = await jsm.consumers.info(current.names.stream, current.names.consumer);
      return info.num_pending + info.num_ack_pending;
    };
  }

  async function deadLetterCount(reason: string): Promise<number> {
    const text = await telemetry.renderMetrics();
    const line = text.split('\n').find((row) => row.startsWith('chat_dead_letters_total{') && row.includes(`reason="${reason}"`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  }

  it('keeps it as a dead letter with its error, counts it, writes the rest of the batch, and a replay after the fix writes it once', async () => {
    fixture = await new PersisterFixture({ databaseUrl: database.url }).open();
    const db: Kysely<Database> = fixture.db;
    await sql`alter table chat_messages add constraint no_refuse_me check (message not like '%REFUSE-ME%')`.execute(db);
    const countedBefore = await deadLetterCount('refused');
    const sessionId = randomUUID();
    const sent: ChatMessage[] = [1, 2, 3, 4, 5].map((seq) => message(sessionId, seq, seq === 3 ? { body: 'please REFUSE-ME' } : {}));
    await Promise.all(sent.map((item) => fixture!.queue.publish(item)));
    const refused = sent[2]!;

    const outstanding = await start(fixture);
    await eventually(async () => (await outstanding()) === 0, 30_000, 'every message to be acknowledged');

    // The rest of the batch is written; the refused one is a dead letter with the error.
    const stored = await db.selectFrom('chat_messages').select('seq').where('session_id', '=', sessionId).orderBy('seq').execute();
    expect(stored.map((row) => Number(row.seq))).toEqual([1, 2, 4, 5]);
    const letter = await fixture.deadLetters.get(refused.id);
    expect(letter).toMatchObject({ messageId: refused.id, sessionId, seq: 3, reason: 'refused', errorCode: '23514', attempts: 3, replayedAt: null });
    expect(letter?.error).toContain('no_refuse_me');
    expect(new TextDecoder().decode(letter?.payload)).toBe(JSON.stringify(refused));
    expect(await deadLetterCount('refused')).toBe(countedBefore + 1);
    expect(await fixture.deadLetters.countOpen()).toBe(1);

    // History shows it for what it is, not as a hole.
    const page = await fixture.store.history(sessionId, { limit: 10 });
    expect(page.messages.map((m) => [m.seq, m.state ?? 'stored'])).toEqual([
      [1, 'stored'],
      [2, 'stored'],
      [3, 'dead_letter'],
      [4, 'stored'],
      [5, 'stored'],
    ]);
    expect(await fixture.store.maxSeq(sessionId)).toBe(5);

    // Before the fix a replay is refused again and changes nothing.
    const early = await fixture.deadLetters.replay(refused.id, new Date().toISOString());
    expect(early.status).toBe('refused');
    expect((await fixture.deadLetters.get(refused.id))?.replayedAt).toBeNull();

    await sql`alter table chat_messages drop constraint no_refuse_me`.execute(db);
    const first = await fixture.deadLetters.replay(refused.id, new Date().toISOString());
    expect(first).toMatchObject({ status: 'replayed', inserted: true, message: refused });
    const second = await fixture.deadLetters.replay(refused.id, new Date().toISOString());
    expect(second).toMatchObject({ status: 'replayed', inserted: false });
    const rows = await db.selectFrom('chat_messages').selectAll().where('id', '=', refused.id).execute();
    expect(rows).toHaveLength(1);
    expect((await fixture.store.history(sessionId, { limit: 10 })).messages).toEqual(sent);
    expect(await fixture.deadLetters.countOpen()).toBe(0);
  }, 90_000);

  it('does not acknowledge a message while its dead letter cannot be recorded, and records it once it can', async () => {
    fixture = await new PersisterFixture({ databaseUrl: database.url }).open();
    const db: Kysely<Database> = fixture.db;
    const sessionId = randomUUID();
    const subject = `${fixture.names.subjectPrefix}.${sessionId}`;
    await sql`alter table chat_dead_letters rename to chat_dead_letters_away`.execute(db);
    try {
      const outstanding = await start(fixture);
      const publisher = await connect({ servers: TEST_NATS_URL });
      const { jetstream } = await import('@nats-io/jetstream');
      await jetstream(publisher).publish(subject, new TextEncoder().encode(`{"type":"message","sessionId":"${sessionId}","seq":1}`));
      await publisher.close();
      // It keeps coming back (nak with a delay): still outstanding well after several deliveries.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(await outstanding()).toBe(1);
      await expect(worker!.checkWrites()).rejects.toThrow(/latest write/);
      await sql`alter table chat_dead_letters_away rename to chat_dead_letters`.execute(db);
      await eventually(async () => (await outstanding()) === 0, 30_000, 'the message to be acknowledged once recorded');
      const [letter] = await fixture.deadLetters.list({ limit: 10, sessionId, includeReplayed: true });
      expect(letter).toMatchObject({ reason: 'invalid_payload', sessionId, seq: 1, messageId: null, error: expect.stringMatching(/^payload is not a chat message \(.*body/) });
    } finally {
      await sql`alter table if exists chat_dead_letters_away rename to chat_dead_letters`.execute(db);
    }
  }, 90_000);
});
