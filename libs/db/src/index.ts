export type { Database, ChatMessagesTable, ChatSessionsTable } from './database.ts';
export { createDatabase, type DatabaseOptions } from './create-database.ts';
export { migrateToLatest, migrateDown, MigrationError, type MigrationOutcome } from './migrate.ts';
export { migrations, staticMigrationProvider } from './migrations/index.ts';
export { KyselyChatStore } from './kysely-chat-store.ts';
