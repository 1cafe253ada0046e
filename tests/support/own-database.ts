import { randomUUID } from 'node:crypto';
import { createDatabase, migrateToLatest } from '@chat/db';
import { sql } from 'kysely';
import { TEST_DATABASE_URL } from './services.ts';

/**
 * A database of the suite's own on the test PostgreSQL server, for suites that migrate, drop or
 * export: the shared database may hold other migrations and other suites' rows.
 */
export async function createOwnDatabase(prefix: string, options: { migrate?: boolean } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomUUID().replaceAll('-', '')}`;
  const admin = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
  await sql`create database ${sql.id(name)}`.execute(admin);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  if (options.migrate === true) {
    const db = createDatabase({ kind: 'postgres', url: url.toString(), maxConnections: 1 });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
  }
  return {
    url: url.toString(),
    drop: async () => {
      try {
        await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
      } finally {
        await admin.destroy();
      }
    },
  };
}
