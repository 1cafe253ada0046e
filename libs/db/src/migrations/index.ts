import type { Migration, MigrationProvider } from 'kysely/migration';
import { chatTables } from './001-chat-tables.ts';
import { clientMsgIdUnique } from './12_client-msg-id-unique.ts';
import { deadLetters } from './20-dead-letters.ts';
import { workspace } from './30-workspace.ts';
import { people } from './40-people.ts';
import { search } from './45-search.ts';
import { dropSessionIndex } from './50-drop-session-index.ts';

/** Every migration, in order; listed in code so that no file globbing is needed at run time. */
export const migrations: Readonly<Record<string, Migration>> = {
  '001-chat-tables': chatTables,
  '12_client-msg-id-unique': clientMsgIdUnique,
  '20-dead-letters': deadLetters,
  '30-workspace': workspace,
  '40-people': people,
  '45-search': search,
  '50-drop-session-index': dropSessionIndex,
};

export const staticMigrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...migrations }),
};
