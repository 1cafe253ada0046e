import type { Kysely } from 'kysely';
import { Migrator, type MigrationResultSet } from 'kysely/migration';
import { staticMigrationProvider } from './migrations/index.ts';

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  readonly migration: string | undefined;

  constructor(message: string, migration: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.migration = migration;
  }
}

export interface MigrationOutcome {
  /** Names of the migrations that ran, in order. */
  applied: string[];
}

function migrator(db: Kysely<unknown>): Migrator {
  return new Migrator({ db, provider: staticMigrationProvider });
}

function outcome(result: MigrationResultSet): MigrationOutcome {
  const failed = result.results?.find((item) => item.status === 'Error');
  if (result.error !== undefined) {
    throw new MigrationError(`migration ${failed?.migrationName ?? ''} failed`.replace('  ', ' '), failed?.migrationName, { cause: result.error });
  }
  return { applied: (result.results ?? []).filter((item) => item.status === 'Success').map((item) => item.migrationName) };
}

/** Applies every pending migration; safe to run concurrently from several processes. */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationOutcome> {
  return outcome(await migrator(db as Kysely<unknown>).migrateToLatest());
}

/** Reverts the latest applied migration. */
export async function migrateDown<DB>(db: Kysely<DB>): Promise<MigrationOutcome> {
  return outcome(await migrator(db as Kysely<unknown>).migrateDown());
}

/** The latest applied migration's name, or undefined on an empty database. */
export async function latestApplied<DB>(db: Kysely<DB>): Promise<string | undefined> {
  const migrations = await migrator(db as Kysely<unknown>).getMigrations();
  return migrations.filter((migration) => migration.executedAt !== undefined).at(-1)?.name;
}

/** Migrations whose down drops the audit record; `pnpm migrate down` exports before running them. */
export const DROPS_AUDIT_RECORD: ReadonlySet<string> = new Set(['001-chat-tables']);
