import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/** The contract's chat_messages table (section 6) plus the sessions table. */
export const chatTables: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('chat_messages')
      .addColumn('id', 'uuid', (column) => column.primaryKey())
      .addColumn('session_id', 'uuid', (column) => column.notNull())
      .addColumn('seq', 'bigint', (column) => column.notNull())
      .addColumn('user_id', 'uuid', (column) => column.notNull())
      .addColumn('message', 'text', (column) => column.notNull())
      .addColumn('timestamp', 'timestamptz', (column) => column.notNull())
      .addColumn('metadata', 'jsonb', (column) => column.notNull().defaultTo(sql`'{}'`))
      .addColumn('client_msg_id', 'text')
      .addColumn('user_name', 'text')
      .execute();
    await db.schema.createIndex('idx_chat_session').on('chat_messages').column('session_id').execute();
    await db.schema.createIndex('idx_chat_session_seq').unique().on('chat_messages').columns(['session_id', 'seq']).execute();

    await db.schema
      .createTable('chat_sessions')
      .addColumn('id', 'uuid', (column) => column.primaryKey())
      .addColumn('title', 'text')
      .addColumn('members', sql`uuid[]`, (column) => column.notNull().defaultTo(sql`'{}'`))
      .addColumn('metadata', 'jsonb', (column) => column.notNull().defaultTo(sql`'{}'`))
      .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
      .addColumn('closed_at', 'timestamptz')
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('chat_sessions').execute();
    await db.schema.dropTable('chat_messages').execute();
  },
};
