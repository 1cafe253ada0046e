import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * idx_chat_session (session_id alone) repeats the leading column of idx_chat_session_seq
 * (session_id, seq), which serves every read that filters by session: history, the newest seq,
 * exports, unread counts and search all plan on it. The narrower index only cost each insert a
 * fifth btree to maintain (see "Storage: one index fewer, a prepared insert" in docs/benchmarks.md).
 */
export const dropSessionIndex: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('idx_chat_session').ifExists().execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('idx_chat_session').ifNotExists().on('chat_messages').column('session_id').execute();
  },
};
