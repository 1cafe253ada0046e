export type { Database, ChatMessagesTable, ChatSessionsTable, ChatDeadLettersTable, ChatReadCursorsTable, ChatAnalysisStatusTable, ChatPeopleTable } from './database.ts';
export { createDatabase, type DatabaseOptions } from './create-database.ts';
export { migrateToLatest, migrateDown, latestApplied, DROPS_AUDIT_RECORD, MigrationError, type MigrationOutcome } from './migrate.ts';
export { migrations, staticMigrationProvider } from './migrations/index.ts';
export { KyselyChatStore } from './kysely-chat-store.ts';
export { KyselyDeadLetterStore } from './kysely-dead-letter-store.ts';
export { deadLetterId, UNKNOWN_USER_ID } from './dead-letter-rows.ts';
export { isRowRefusal, sqlState } from './row-refusal.ts';
export {
  exportChatData,
  verifyExport,
  ExportVerificationError,
  MESSAGES_FILE,
  SESSIONS_FILE,
  CHECKSUM_FILE,
  MANIFEST_FILE,
  type ExportFilter,
  type ExportManifest,
} from './export-chat-data.ts';
export { KyselyWorkspaceStore } from './kysely-workspace-store.ts';
export { KyselyPeopleStore } from './kysely-people-store.ts';
