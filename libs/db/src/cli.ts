import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { loadConfigOrExit } from '@chat/config';
import { sql, type Kysely } from 'kysely';
import { createDatabase } from './create-database.ts';
import type { Database } from './database.ts';
import { exportChatData, verifyExport } from './export-chat-data.ts';
import { DROPS_AUDIT_RECORD, latestApplied, migrateDown, migrateToLatest } from './migrate.ts';

// `pnpm migrate [up|down] [--export-dir DIR] [--skip-export]`: applies every pending migration, or
// reverts the latest one, on DATABASE_URL. A down that would drop chat_messages and chat_sessions
// first exports them (JSON Lines + SHA256SUMS), checks the export, and refuses to drop without it.
const USAGE = 'usage: pnpm migrate [up|down] [--export-dir <dir>] [--skip-export]';

const { values, positionals } = parseArgs({
  options: { 'export-dir': { type: 'string' }, 'skip-export': { type: 'boolean', default: false } },
  allowPositionals: true,
  strict: false,
});
const direction = positionals[0] ?? 'up';
const unknown = Object.keys(values).filter((key) => key !== 'export-dir' && key !== 'skip-export');
if ((direction !== 'up' && direction !== 'down') || positionals.length > 1 || unknown.length > 0) {
  const got = unknown.length > 0 ? `--${unknown.join(', --')}` : positionals.join(' ');
  process.stderr.write(`${USAGE} (got "${got}")\n`);
  process.exit(64);
}

const config = loadConfigOrExit();
const db = createDatabase({ kind: 'postgres', url: config.databaseUrl });
try {
  if (direction === 'down') await exportBeforeDown(db);
  const { applied } = direction === 'up' ? await migrateToLatest(db) : await migrateDown(db);
  const verb = direction === 'up' ? 'applied' : 'reverted';
  process.stdout.write(applied.length === 0 ? `nothing to migrate ${direction}\n` : `${verb}: ${applied.join(', ')}\n`);
} catch (error) {
  process.stderr.write(`migration failed: ${describe(error)}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}

async function exportBeforeDown(db: Kysely<Database>): Promise<void> {
  const latest = await latestApplied(db);
  if (latest === undefined || !DROPS_AUDIT_RECORD.has(latest)) return;
  if (values['skip-export'] === true) {
    process.stderr.write(`--skip-export: dropping chat_messages and chat_sessions without a copy\n`);
    return;
  }
  const requested = values['export-dir'];
  const dir = resolve(typeof requested === 'string' ? requested : `exports/before-down-${latest}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  let manifest;
  try {
    await exportChatData(db, dir);
    manifest = verifyExport(dir);
  } catch (error) {
    throw new Error(`refusing to drop chat_messages and chat_sessions: the export to ${dir} failed (${describe(error)}); fix it or pass --skip-export`);
  }
  // Rows written after the export would be dropped without a copy: chat must be off first.
  const now = await counts(db);
  const exported = { messages: manifest.files['chat_messages.jsonl']?.rows, sessions: manifest.files['chat_sessions.jsonl']?.rows };
  if (now.messages !== exported.messages || now.sessions !== exported.sessions) {
    throw new Error(`refusing to drop: rows changed during the export (${String(exported.messages)} → ${String(now.messages)} messages); turn chat off (pnpm chat:switch off) and run it again`);
  }
  process.stdout.write(`exported ${String(now.messages)} messages and ${String(now.sessions)} sessions to ${dir} (checksums in SHA256SUMS)\n`);
}

async function counts(db: Kysely<Database>): Promise<{ messages: number; sessions: number }> {
  const { rows } = await sql<{ messages: string; sessions: string }>`select (select count(*) from chat_messages) as messages, (select count(*) from chat_sessions) as sessions`.execute(db);
  return { messages: Number(rows[0]?.messages), sessions: Number(rows[0]?.sessions) };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
