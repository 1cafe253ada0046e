import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { MESSAGE_COLUMNS, type Database } from './database.ts';

/** Which part of the record to export; every field narrows it, none exports everything. */
export interface ExportFilter {
  /** Only these sessions (and their messages). */
  sessionIds?: readonly string[];
  /** Messages with timestamp >= from; sessions with a message in the range or created in it. */
  from?: Date;
  /** Messages with timestamp < to. */
  to?: Date;
}

export interface ExportManifest {
  format: 'chat-export/1';
  createdAt: string;
  filter: { sessionIds: readonly string[] | null; from: string | null; to: string | null };
  files: Record<string, { rows: number; sha256: string }>;
}

export const MESSAGES_FILE = 'chat_messages.jsonl';
export const SESSIONS_FILE = 'chat_sessions.jsonl';
export const CHECKSUM_FILE = 'SHA256SUMS';
export const MANIFEST_FILE = 'manifest.json';
const PAGE = 1_000;

export class ExportVerificationError extends Error {
  override readonly name = 'ExportVerificationError';
}

/**
 * Writes the audit record to `dir` as JSON Lines (one row per line, every column, `seq` as a
 * number, times in ISO-8601), plus `SHA256SUMS` (checkable with `sha256sum -c`) and a
 * `manifest.json` with the filter and row counts. Rows are read page by page in (session, seq)
 * order, so a large table never sits in memory.
 */
export async function exportChatData(db: Kysely<Database>, dir: string, filter: ExportFilter = {}): Promise<ExportManifest> {
  mkdirSync(dir, { recursive: true });
  const messages = await writeLines(join(dir, MESSAGES_FILE), messagePages(db, filter));
  const sessions = await writeLines(join(dir, SESSIONS_FILE), sessionPages(db, filter));
  const manifest: ExportManifest = {
    format: 'chat-export/1',
    createdAt: new Date().toISOString(),
    filter: { sessionIds: filter.sessionIds ?? null, from: filter.from?.toISOString() ?? null, to: filter.to?.toISOString() ?? null },
    files: { [MESSAGES_FILE]: messages, [SESSIONS_FILE]: sessions },
  };
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  const sums = [MESSAGES_FILE, SESSIONS_FILE, MANIFEST_FILE].map((file) => `${sha256(join(dir, file))}  ${file}`);
  writeFileSync(join(dir, CHECKSUM_FILE), `${sums.join('\n')}\n`);
  return manifest;
}

/** Re-reads an export and checks every file against SHA256SUMS; throws on the first mismatch. */
export function verifyExport(dir: string): ExportManifest {
  const lines = readFileSync(join(dir, CHECKSUM_FILE), 'utf8').trim().split('\n');
  for (const line of lines) {
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (match === null) throw new ExportVerificationError(`${CHECKSUM_FILE}: malformed line "${line}"`);
    const [, expected = '', file = ''] = match;
    if (sha256(join(dir, file)) !== expected) throw new ExportVerificationError(`${file}: checksum does not match ${CHECKSUM_FILE}`);
  }
  return JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as ExportManifest;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function writeLines(path: string, pages: AsyncIterable<readonly unknown[]>): Promise<{ rows: number; sha256: string }> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const failed = once(out, 'error').then(([error]) => Promise.reject(error as Error));
  failed.catch(() => undefined);
  let rows = 0;
  for await (const page of pages) {
    for (const row of page) {
      if (!out.write(`${JSON.stringify(row)}\n`)) await Promise.race([once(out, 'drain'), failed]);
      rows += 1;
    }
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return { rows, sha256: sha256(path) };
}

async function* messagePages(db: Kysely<Database>, filter: ExportFilter): AsyncGenerator<readonly unknown[]> {
  let after: { sessionId: string; seq: number } | undefined;
  for (;;) {
    let query = db.selectFrom('chat_messages').select(MESSAGE_COLUMNS).orderBy('session_id').orderBy('seq').limit(PAGE);
    if (filter.sessionIds !== undefined) query = query.where('session_id', 'in', filter.sessionIds.length > 0 ? [...filter.sessionIds] : ['00000000-0000-0000-0000-000000000000']);
    if (filter.from !== undefined) query = query.where('timestamp', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('timestamp', '<', filter.to);
    if (after !== undefined) {
      const { sessionId, seq } = after;
      query = query.where((eb) => eb.or([eb('session_id', '>', sessionId), eb.and([eb('session_id', '=', sessionId), eb('seq', '>', seq)])]));
    }
    const rows = await query.execute();
    if (rows.length === 0) return;
    yield rows.map((row) => ({ ...row, seq: Number(row.seq) }));
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) return;
    after = { sessionId: last.session_id, seq: Number(last.seq) };
  }
}

async function* sessionPages(db: Kysely<Database>, filter: ExportFilter): AsyncGenerator<readonly unknown[]> {
  let after: string | undefined;
  const ranged = filter.from !== undefined || filter.to !== undefined;
  for (;;) {
    let query = db.selectFrom('chat_sessions').selectAll().orderBy('id').limit(PAGE);
    if (filter.sessionIds !== undefined) query = query.where('id', 'in', filter.sessionIds.length > 0 ? [...filter.sessionIds] : ['00000000-0000-0000-0000-000000000000']);
    if (ranged) {
      query = query.where((eb) => {
        let inRange = eb.selectFrom('chat_messages').select('chat_messages.id').whereRef('chat_messages.session_id', '=', 'chat_sessions.id');
        if (filter.from !== undefined) inRange = inRange.where('chat_messages.timestamp', '>=', filter.from);
        if (filter.to !== undefined) inRange = inRange.where('chat_messages.timestamp', '<', filter.to);
        const created = [
          ...(filter.from === undefined ? [] : [eb('created_at', '>=', filter.from)]),
          ...(filter.to === undefined ? [] : [eb('created_at', '<', filter.to)]),
        ];
        return eb.or([eb.exists(inRange), eb.and(created)]);
      });
    }
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    if (rows.length === 0) return;
    yield rows;
    after = rows.at(-1)?.id;
    if (after === undefined || rows.length < PAGE) return;
  }
}
