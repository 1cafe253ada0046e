import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './database.ts';
import { nameMarkedStatements } from './named-statements.ts';

export type DatabaseOptions =
  | { kind: 'postgres'; url: string; maxConnections?: number; queryTimeoutMs?: number }
  /** Embedded PostgreSQL; in memory when no dataDir is given. */
  | { kind: 'pglite'; dataDir?: string };

export function createDatabase(options: DatabaseOptions): Kysely<Database> {
  switch (options.kind) {
    case 'postgres':
      return new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool(options) }) });
    case 'pglite':
      return new Kysely<Database>({ dialect: new PGliteDialect(new PGlite(options.dataDir)) });
  }
}

function createPool(options: Extract<DatabaseOptions, { kind: 'postgres' }>): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
    // A server that stops answering mid-query fails the call instead of hanging it.
    ...(options.queryTimeoutMs === undefined ? {} : { query_timeout: options.queryTimeoutMs }),
  });
  // An idle client lost its server (restart, network): the pool drops it and the next query reconnects.
  pool.on('error', () => undefined);
  // A checked-out client whose server dies emits 'error' with no pool listener attached, which
  // would end the process; its query fails on its own, and the pool discards the broken client.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    nameMarkedStatements(client);
  });
  return pool;
}
