import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * chat_dead_letters: acknowledged messages the persister could not write, kept as the raw queued
 * bytes (bytea: a payload the store refused as text, or that is not even UTF-8, still fits) with
 * the error, until an operator replays them.
 */
export const deadLetters: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('chat_dead_letters')
      // The message's id when the payload carries one, else a UUID derived from the payload's hash:
      // a redelivered message updates its dead letter instead of adding a second.
      .addColumn('id', 'uuid', (column) => column.primaryKey())
      .addColumn('message_id', 'uuid')
      .addColumn('session_id', 'uuid')
      .addColumn('seq', 'bigint')
      .addColumn('payload', 'bytea', (column) => column.notNull())
      .addColumn('reason', 'text', (column) => column.notNull().check(sql`reason in ('invalid_payload', 'refused')`))
      .addColumn('error', 'text', (column) => column.notNull())
      .addColumn('error_code', 'text')
      .addColumn('attempts', 'integer', (column) => column.notNull())
      .addColumn('first_failed_at', 'timestamptz', (column) => column.notNull())
      .addColumn('last_failed_at', 'timestamptz', (column) => column.notNull())
      .addColumn('replayed_at', 'timestamptz')
      .execute();
    // History reads the open dead letters of a session by seq; the gauge counts the open ones.
    await db.schema
      .createIndex('idx_chat_dead_letters_open')
      .on('chat_dead_letters')
      .columns(['session_id', 'seq'])
      .where(sql.ref('replayed_at'), 'is', null)
      .execute();
  },

  /** Refuses while any dead letter is kept: dropping the table would lose acknowledged messages. */
  async down(db: Kysely<unknown>): Promise<void> {
    const { rows } = await sql<{ count: string | number }>`select count(*) as count from chat_dead_letters`.execute(db);
    const count = Number(rows[0]?.count ?? 0);
    if (count > 0) {
      throw new Error(
        `chat_dead_letters holds ${count} dead letter(s); export them first (psql -c "\\copy chat_dead_letters to 'dead-letters.csv' csv header"), ` +
          'then delete them, and migrate down again',
      );
    }
    await db.schema.dropTable('chat_dead_letters').execute();
  },
};
