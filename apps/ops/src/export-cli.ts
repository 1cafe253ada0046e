import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfigOrExit } from '@chat/config';
import { createDatabase, exportChatData, verifyExport } from '@chat/db';
import { EXPORT_USAGE, ExportUsageError, parseExportArgs } from './export-options.ts';

// `pnpm chat:export`: copies the audit record (or a part of it) out of DATABASE_URL. See docs/operating.md.
let options;
try {
  options = parseExportArgs(process.argv.slice(2), new Date());
} catch (error) {
  if (!(error instanceof ExportUsageError)) throw error;
  process.stderr.write(`${error.message}\n${EXPORT_USAGE}\n`);
  process.exit(64);
}
const dir = resolve(options.out);
if (existsSync(dir) && readdirSync(dir).length > 0) {
  process.stderr.write(`${dir} is not empty; choose a new --out so no earlier export is overwritten\n`);
  process.exit(73);
}

const config = loadConfigOrExit();
const db = createDatabase({ kind: 'postgres', url: config.databaseUrl });
try {
  await exportChatData(db, dir, options.filter);
  const manifest = verifyExport(dir);
  const rows = (file: string) => String(manifest.files[file]?.rows ?? 0);
  process.stdout.write(`exported ${rows('chat_messages.jsonl')} messages and ${rows('chat_sessions.jsonl')} sessions to ${dir} (checksums in SHA256SUMS)\n`);
} catch (error) {
  process.stderr.write(`export failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
