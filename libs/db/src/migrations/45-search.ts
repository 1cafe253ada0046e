import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Full-text search of message bodies: a GIN index over the body's tsvector, a generated column
 * kept by PostgreSQL itself (no trigger; PGlite runs it the same). The `simple` configuration
 * lowercases words and nothing more: no stemming and no stop words, since a session mixes
 * languages, figures and tickers, and any word typed is then found as written. Reads name their
 * columns, so the vector never travels with history or exports.
 */
export const search: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`alter table chat_messages add column body_search tsvector generated always as (to_tsvector('simple'::regconfig, message)) stored`.execute(db);
    await sql`create index idx_chat_messages_search on chat_messages using gin (body_search)`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('idx_chat_messages_search').execute();
    await sql`alter table chat_messages drop column body_search`.execute(db);
  },
};
