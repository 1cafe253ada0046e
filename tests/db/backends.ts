import { createDatabase, migrateToLatest, type Database } from '@chat/db';
import type { Kysely } from 'kysely';
import { POSTGRES, realServicesAvailable, TEST_DATABASE_URL } from '../support/services.ts';

export { TEST_DATABASE_URL };

export interface Backend {
  name: string;
  /** False when the backend's server is unreachable outside CI (the suite then skips, loudly). */
  available: boolean;
  open(): Promise<Kysely<Database>>;
}

/** Every store suite runs once per backend with the same assertions. */
export async function backends(): Promise<Backend[]> {
  const postgresUp = await realServicesAvailable(POSTGRES);
  return [
    { name: 'PostgreSQL', available: postgresUp, open: () => migrated(createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL })) },
    { name: 'PGlite', available: true, open: () => migrated(createDatabase({ kind: 'pglite' })) },
  ];
}

async function migrated(db: Kysely<Database>): Promise<Kysely<Database>> {
  await migrateToLatest(db);
  return db;
}
