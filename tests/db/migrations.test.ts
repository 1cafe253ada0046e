import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDatabase, migrateDown, migrateToLatest, migrations, type Database } from '@chat/db';
import { sql, type Kysely } from 'kysely';
import { POSTGRES, realServicesAvailable, TEST_DATABASE_URL } from '../support/services.ts';

const postgresUp = await realServicesAvailable(POSTGRES);

async function tables(db: Kysely<Database>): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = current_schema() and table_name like 'chat_%' order by table_name`.execute(db);
  return result.rows.map((row) => row.table_name);
}

async function columns(db: Kysely<Database>, table: string): Promise<Record<string, string>> {
  const result = await sql<{ column_name: string; data_type: string; is_nullable: string }>`
    select column_name, data_type, is_nullable from information_schema.columns
    where table_schema = current_schema() and table_name = ${table}`.execute(db);
  return Object.fromEntries(result.rows.map((row) => [row.column_name, `${row.data_type}${row.is_nullable === 'YES' ? ' null' : ''}`]));
}

async function indexes(db: Kysely<Database>): Promise<string[]> {
  const result = await sql<{ indexdef: string }>`
    select indexdef from pg_indexes where schemaname = current_schema() and tablename = 'chat_messages' order by indexname`.execute(db);
  return result.rows.map((row) => row.indexdef.replace(/ USING btree/, '').replace(/public\./g, ''));
}

/** Each backend gets a database of its own, since going down drops the tables every other suite uses. */
const backends: { name: string; available: boolean; open: () => Promise<{ db: Kysely<Database>; dispose: () => Promise<void> }> }[] = [
  {
    name: 'PostgreSQL',
    available: postgresUp,
    open: async () => {
      const name = `migrations_${randomUUID().replaceAll('-', '')}`;
      const admin = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
      await sql`create database ${sql.id(name)}`.execute(admin);
      const url = new URL(TEST_DATABASE_URL);
      url.pathname = `/${name}`;
      const db = createDatabase({ kind: 'postgres', url: url.toString() });
      const dispose = async () => {
        await db.destroy();
        await sql`drop database ${sql.id(name)}`.execute(admin);
        await admin.destroy();
      };
      return { db, dispose };
    },
  },
  {
    name: 'PGlite',
    available: true,
    open: () => {
      const db = createDatabase({ kind: 'pglite' });
      return Promise.resolve({ db, dispose: () => db.destroy() });
    },
  },
];

for (const backend of backends) {
  (backend.available ? describe : describe.skip)(`migrations on ${backend.name}`, () => {
    let db: Kysely<Database>;
    let dispose: () => Promise<void>;

    // Every test but the first reads this database at the latest migration, whatever ran before it.
    beforeAll(async () => {
      ({ db, dispose } = await backend.open());
      await migrateToLatest(db);
    });

    afterAll(async () => {
      await dispose();
    });

    const ALL_TABLES = ['chat_analysis_status', 'chat_dead_letters', 'chat_messages', 'chat_people', 'chat_read_cursors', 'chat_sessions'];

    it('creates the contract tables and the dead letters, then drops them going down, then creates them again', async () => {
      const fresh = await backend.open();
      try {
        expect(await tables(fresh.db)).toEqual([]);
        expect(await migrateToLatest(fresh.db)).toEqual({ applied: Object.keys(migrations) });
        expect(await tables(fresh.db)).toEqual(ALL_TABLES);

        expect(await migrateDown(fresh.db)).toEqual({ applied: ['50-drop-session-index'] });
        expect(await indexes(fresh.db)).toContain('CREATE INDEX idx_chat_session ON chat_messages (session_id)');
        expect(await migrateDown(fresh.db)).toEqual({ applied: ['45-search'] });
        expect(await indexes(fresh.db)).not.toContain('CREATE INDEX idx_chat_messages_search ON chat_messages USING gin (body_search)');
        expect(Object.keys(await columns(fresh.db, 'chat_messages'))).not.toContain('body_search');
        expect(await migrateDown(fresh.db)).toEqual({ applied: ['40-people'] });
        expect(await tables(fresh.db)).toEqual(ALL_TABLES.filter((table) => table !== 'chat_people'));
        expect(await migrateDown(fresh.db)).toEqual({ applied: ['30-workspace'] });
        expect(await tables(fresh.db)).toEqual(['chat_dead_letters', 'chat_messages', 'chat_sessions']);
        expect(await migrateDown(fresh.db)).toEqual({ applied: ['20-dead-letters'] });
        expect(await tables(fresh.db)).toEqual(['chat_messages', 'chat_sessions']);
        expect(await migrateDown(fresh.db)).toEqual({ applied: ['12_client-msg-id-unique'] });
        expect(await indexes(fresh.db)).not.toContain('CREATE UNIQUE INDEX idx_chat_session_user_client_msg ON chat_messages (session_id, user_id, client_msg_id)');
        expect(await migrateDown(fresh.db)).toEqual({ applied: ['001-chat-tables'] });
        expect(await tables(fresh.db)).toEqual([]);

        expect(await migrateToLatest(fresh.db)).toEqual({ applied: Object.keys(migrations) });
        expect(await tables(fresh.db)).toEqual(ALL_TABLES);
      } finally {
        await fresh.dispose();
      }
    });

    it('refuses to go down while a dead letter is kept, losing nothing, and goes down once it is gone', async () => {
      const fresh = await backend.open();
      try {
        const db = fresh.db;
        await migrateToLatest(db);
        expect(await migrateDown(db)).toEqual({ applied: ['50-drop-session-index'] });
        expect(await migrateDown(db)).toEqual({ applied: ['45-search'] });
        expect(await migrateDown(db)).toEqual({ applied: ['40-people'] });
        expect(await migrateDown(db)).toEqual({ applied: ['30-workspace'] });
        const id = randomUUID();
        await sql`insert into chat_dead_letters (id, payload, reason, error, attempts, first_failed_at, last_failed_at)
          values (${id}, ${new Uint8Array([0x7b, 0x00, 0xff])}, 'invalid_payload', 'payload is not JSON', 1, now(), now())`.execute(db);
        await expect(migrateDown(db)).rejects.toThrow(/20-dead-letters/);
        const refusal: unknown = await migrateDown(db).catch((error: unknown) => error);
        expect(refusal instanceof Error ? String(refusal.cause) : refusal).toMatch(/holds 1 dead letter.*export them first/);
        const kept = await db.selectFrom('chat_dead_letters').select('payload').where('id', '=', id).executeTakeFirstOrThrow();
        expect([...new Uint8Array(kept.payload)]).toEqual([0x7b, 0x00, 0xff]);

        await db.deleteFrom('chat_dead_letters').where('id', '=', id).execute();
        expect(await migrateDown(db)).toEqual({ applied: ['20-dead-letters'] });
        expect(await migrateToLatest(db)).toEqual({ applied: ['20-dead-letters', '30-workspace', '40-people', '45-search', '50-drop-session-index'] });
      } finally {
        await fresh.dispose();
      }
    });

    it('does nothing when already at the latest migration', async () => {
      const before = await tables(db);
      expect(await migrateToLatest(db)).toEqual({ applied: [] });
      expect(await tables(db)).toEqual(before);
    });

    it('gives chat_messages exactly the contract columns plus client_msg_id, user_name and the search vector', async () => {
      expect(await columns(db, 'chat_messages')).toEqual({
        id: 'uuid',
        session_id: 'uuid',
        seq: 'bigint',
        user_id: 'uuid',
        message: 'text',
        timestamp: 'timestamp with time zone',
        metadata: 'jsonb',
        client_msg_id: 'text null',
        user_name: 'text null',
        body_search: 'tsvector null',
      });
      expect(await indexes(db)).toEqual([
        'CREATE UNIQUE INDEX chat_messages_pkey ON chat_messages (id)',
        'CREATE INDEX idx_chat_messages_search ON chat_messages USING gin (body_search)',
        'CREATE UNIQUE INDEX idx_chat_session_seq ON chat_messages (session_id, seq)',
        'CREATE UNIQUE INDEX idx_chat_session_user_client_msg ON chat_messages (session_id, user_id, client_msg_id)',
      ]);
    });

    it('keeps each body\'s search vector with the body, words lowercased and unstemmed, and finds them through the index', async () => {
      const sessionId = randomUUID();
      await sql`insert into chat_messages (id, session_id, seq, user_id, message, timestamp)
        values (${randomUUID()}, ${sessionId}, 1, ${randomUUID()}, 'Running Totals für Q3', now())`.execute(db);
      const row = await sql<{ vector: string }>`select body_search::text as vector from chat_messages where session_id = ${sessionId}`.execute(db);
      expect(row.rows[0]?.vector).toBe("'für':3 'q3':4 'running':1 'totals':2");
      await sql`update chat_messages set message = 'changed' where session_id = ${sessionId}`.execute(db);
      const changed = await sql<{ vector: string }>`select body_search::text as vector from chat_messages where session_id = ${sessionId}`.execute(db);
      expect(changed.rows[0]?.vector).toBe("'changed':1");

      await db.transaction().execute(async (tx) => {
        await sql`set local enable_seqscan = off`.execute(tx);
        const plan = await sql<{ 'QUERY PLAN': string }>`explain select id from chat_messages where body_search @@ websearch_to_tsquery('simple'::regconfig, 'changed')`.execute(tx);
        expect(plan.rows.map((line) => line['QUERY PLAN']).join('\n')).toContain('idx_chat_messages_search');
      });
    });

    it('keeps people as id, name, search key and when they were seen, with an index for name prefixes', async () => {
      expect(await columns(db, 'chat_people')).toEqual({ user_id: 'uuid', name: 'text', name_key: 'text', seen_at: 'timestamp with time zone' });
      const result = await sql<{ indexname: string }>`select indexname from pg_indexes where schemaname = current_schema() and tablename = 'chat_people' order by indexname`.execute(db);
      expect(result.rows.map((row) => row.indexname)).toEqual(['chat_people_pkey', 'idx_chat_people_name_key']);
    });

    it('defaults metadata to an empty object', async () => {
      const id = randomUUID();
      await sql`insert into chat_messages (id, session_id, seq, user_id, message, timestamp)
        values (${id}, ${randomUUID()}, 1, ${randomUUID()}, 'hi', now())`.execute(db);
      const row = await db.selectFrom('chat_messages').select('metadata').where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.metadata).toEqual({});
    });

    it('gives chat_sessions its id, title, members, metadata and times', async () => {
      expect(await columns(db, 'chat_sessions')).toEqual({
        id: 'uuid',
        title: 'text null',
        members: 'ARRAY',
        metadata: 'jsonb',
        created_at: 'timestamp with time zone',
        closed_at: 'timestamp with time zone null',
      });
    });
  });
}
