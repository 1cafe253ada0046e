import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './database.ts';

export type DatabaseOptions =
  | { kind: 'postgres'; url: string; maxConnections?: number }
  /** Embedded PostgreSQL; in memory when no dataDir is given. */
  | { kind: 'pglite'; dataDir?: string };

export function createDatabase(options: DatabaseOptions): Kysely<Database> {
  switch (options.kind) {
    case 'postgres':
      return new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool(options.url, options.maxConnections ?? 10) }) });
    case 'pglite':
      return new Kysely<Database>({ dialect: new PGliteDialect(new PGlite(options.dataDir)) });
  }
}

function createPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000 });
  // An idle client lost its server (restart, network): the pool drops it and the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}
