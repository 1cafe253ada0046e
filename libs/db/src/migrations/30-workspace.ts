import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The analyst's workspace: each member's read cursor per session, the latest reported state of
 * the analysis a session belongs to, and the indexes that list a user's sessions (by member) and
 * find the session of an analysis (metadata.analysisId).
 */
export const workspace: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('chat_read_cursors')
      .addColumn('session_id', 'uuid', (column) => column.notNull())
      .addColumn('user_id', 'uuid', (column) => column.notNull())
      .addColumn('seq', 'bigint', (column) => column.notNull().check(sql`seq >= 0`))
      .addColumn('updated_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('chat_read_cursors_pkey', ['session_id', 'user_id'])
      .execute();

    await db.schema
      .createTable('chat_analysis_status')
      .addColumn('session_id', 'uuid', (column) => column.primaryKey())
      .addColumn('state', 'text', (column) => column.notNull().check(sql`state in ('queued', 'running', 'done', 'failed')`))
      .addColumn('progress', 'real')
      .addColumn('reason', 'text')
      .addColumn('updated_at', 'timestamptz', (column) => column.notNull())
      .execute();

    await sql`create index idx_chat_sessions_members on chat_sessions using gin (members)`.execute(db);
    await sql`create index idx_chat_sessions_analysis on chat_sessions ((metadata ->> 'analysisId'))`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('idx_chat_sessions_analysis').execute();
    await db.schema.dropIndex('idx_chat_sessions_members').execute();
    await db.schema.dropTable('chat_analysis_status').execute();
    await db.schema.dropTable('chat_read_cursors').execute();
  },
};
