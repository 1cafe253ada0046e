import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The people the system has seen through their tokens' `name`, so members are picked by name.
 * `name_key` is the name as it is searched (lower case, computed by the writer the same way on
 * both backends, so matching never depends on the database's locale). Nothing here is part of
 * the audit record: a user's next token writes the row again, so going down needs no export.
 */
export const people: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('chat_people')
      .addColumn('user_id', 'uuid', (column) => column.primaryKey())
      .addColumn('name', 'text', (column) => column.notNull())
      .addColumn('name_key', 'text', (column) => column.notNull())
      .addColumn('seen_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
      .execute();
    // Prefix searches use it whatever the collation; a contains search scans, fine for a directory of people.
    await sql`create index idx_chat_people_name_key on chat_people (name_key text_pattern_ops)`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('idx_chat_people_name_key').execute();
    await db.schema.dropTable('chat_people').execute();
  },
};
