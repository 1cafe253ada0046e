import { loadConfigOrExit } from '@chat/config';
import { createDatabase } from './create-database.ts';
import { migrateDown, migrateToLatest } from './migrate.ts';

// `pnpm migrate [up|down]`: applies every pending migration, or reverts the latest one, on DATABASE_URL.
const direction = process.argv[2] ?? 'up';
if (direction !== 'up' && direction !== 'down') {
  process.stderr.write(`usage: pnpm migrate [up|down] (got "${direction}")\n`);
  process.exit(64);
}

const config = loadConfigOrExit();
const db = createDatabase({ kind: 'postgres', url: config.databaseUrl });
try {
  const { applied } = direction === 'up' ? await migrateToLatest(db) : await migrateDown(db);
  const verb = direction === 'up' ? 'applied' : 'reverted';
  process.stdout.write(applied.length === 0 ? `nothing to migrate ${direction}\n` : `${verb}: ${applied.join(', ')}\n`);
} catch (error) {
  process.stderr.write(`migration failed: ${describe(error)}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
