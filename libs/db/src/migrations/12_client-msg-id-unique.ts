import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The store remembers every (session, user, clientMsgId) too, so a resend is recognised after
 * Redis lost the session's live state: the persister's insert skips a second row with the same key
 * (it is stored already), and the message path looks the key up here. Rows without a clientMsgId
 * (NULL) never conflict.
 */
export const clientMsgIdUnique: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('idx_chat_session_user_client_msg').unique().on('chat_messages').columns(['session_id', 'user_id', 'client_msg_id']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('idx_chat_session_user_client_msg').execute();
  },
};
