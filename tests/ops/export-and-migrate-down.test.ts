import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createDatabase } from '@chat/db';
import { sql } from 'kysely';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_DATABASE_URL } from '../support/services.ts';
import { startStack } from '../support/stack.ts';
import { runCli } from './cli.ts';

const describe = await describeWithServices(POSTGRES, REDIS, NATS);

const SESSION_A = randomUUID();
const SESSION_B = randomUUID();
const ALICE = randomUUID();
const rows = [
  { session_id: SESSION_A, seq: 1, message: 'first', timestamp: '2026-11-01T10:00:00.000Z' },
  { session_id: SESSION_A, seq: 2, message: 'line one\nline two "quoted" — ünïcødé 📈', timestamp: '2026-11-01T11:00:00.000Z' },
  { session_id: SESSION_A, seq: 3, message: 'third', timestamp: '2026-11-01T12:00:00.000Z' },
  { session_id: SESSION_B, seq: 1, message: 'other session', timestamp: '2026-11-01T11:30:00.000Z' },
  { session_id: SESSION_B, seq: 2, message: 'later', timestamp: '2026-11-03T09:00:00.000Z' },
];

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

function sha256sumCheck(dir: string): Promise<string> {
  return new Promise((resolve, reject) => execFile('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir }, (error, stdout) => (error ? reject(new Error(stdout, { cause: error })) : resolve(stdout))));
}

describe('pnpm chat:export and pnpm migrate down on a database of this suite\'s own', () => {
  const name = `export_down_${randomUUID().replaceAll('-', '')}`;
  const admin = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const env = { DATABASE_URL: url.toString() };
  const db = createDatabase({ kind: 'postgres', url: url.toString(), maxConnections: 2 });
  const work = mkdtempSync(join(tmpdir(), 'chat-export-'));
  const migrate = (...args: string[]) => runCli('libs/db/src/cli.ts', args, env);
  const exportCli = (...args: string[]) => runCli('apps/ops/src/export-cli.ts', args, env);
  const tables = async () =>
    (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_name in ('chat_messages', 'chat_sessions') order by 1`.execute(db)).rows.map((row) => row.name);

  beforeAll(async () => {
    await sql`create database ${sql.id(name)}`.execute(admin);
    expect((await migrate('up')).code).toBe(0);
    for (const id of [SESSION_A, SESSION_B]) {
      await db.insertInto('chat_sessions').values({ id, title: `session ${id.slice(0, 4)}`, members: [ALICE], metadata: '{"desk":"rates"}' }).execute();
    }
    for (const row of rows) {
      await db.insertInto('chat_messages').values({ id: randomUUID(), user_id: ALICE, metadata: '{}', client_msg_id: null, user_name: 'Alice', ...row }).execute();
    }
  }, 60_000);

  afterAll(async () => {
    await db.destroy();
    await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
    await admin.destroy();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('exports one session from a time on, as JSON Lines with checksums sha256sum accepts', async () => {
    const out = join(work, 'one-session');
    const answer = await exportCli('--out', out, '--session', SESSION_A, '--from', '2026-11-01T10:30:00Z');
    expect(answer).toMatchObject({ code: 0, stdout: `exported 2 messages and 1 sessions to ${out} (checksums in SHA256SUMS)\n` });
    const messages = lines(join(out, 'chat_messages.jsonl'));
    expect(messages.map((m) => [m['session_id'], m['seq'], m['message'], m['timestamp']])).toEqual([
      [SESSION_A, 2, rows[1]!.message, rows[1]!.timestamp],
      [SESSION_A, 3, 'third', rows[2]!.timestamp],
    ]);
    expect(lines(join(out, 'chat_sessions.jsonl'))).toEqual([expect.objectContaining({ id: SESSION_A, members: [ALICE], metadata: { desk: 'rates' }, closed_at: null })]);
    expect(await sha256sumCheck(out)).toBe('chat_messages.jsonl: OK\nchat_sessions.jsonl: OK\nmanifest.json: OK\n');
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toMatchObject({
      format: 'chat-export/1',
      filter: { sessionIds: [SESSION_A], from: '2026-11-01T10:30:00.000Z', to: null },
      files: { 'chat_messages.jsonl': { rows: 2 }, 'chat_sessions.jsonl': { rows: 1 } },
    });
  }, 60_000);

  it('exports a time range across sessions, and the sessions that had messages in it', async () => {
    const out = join(work, 'range');
    expect((await exportCli('--out', out, '--from', '2026-11-01T11:00:00Z', '--to', '2026-11-02')).code).toBe(0);
    expect(lines(join(out, 'chat_messages.jsonl')).map((m) => m['message'])).toEqual(
      [...rows].filter((r) => r.timestamp >= '2026-11-01T11:00' && r.timestamp < '2026-11-02').sort((a, b) => a.session_id.localeCompare(b.session_id) || a.seq - b.seq).map((r) => r.message),
    );
    expect(lines(join(out, 'chat_sessions.jsonl'))).toHaveLength(2);
  }, 60_000);

  it('refuses to overwrite an earlier export, and refuses bad input, writing nothing', async () => {
    const out = join(work, 'one-session');
    const before = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
    expect(await exportCli('--out', out)).toMatchObject({ code: 73 });
    expect(readFileSync(join(out, 'SHA256SUMS'), 'utf8')).toBe(before);
    const bad = await exportCli('--out', join(work, 'bad'), '--session', 'abc');
    expect(bad).toMatchObject({ code: 64 });
    expect(bad.stderr).toContain('--session must be a session UUID');
    expect(existsSync(join(work, 'bad'))).toBe(false);
  }, 60_000);

  it('refuses to drop the tables when the export cannot be written', async () => {
    // A folder under a plain file cannot be created.
    const blocker = join(work, 'a-file');
    writeFileSync(blocker, '');
    // The later migrations drop no part of the audit record: they go down without an export.
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 50-drop-session-index\n' });
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 45-search\n' });
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 40-people\n' });
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 30-workspace\n' });
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 20-dead-letters\n' });
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 12_client-msg-id-unique\n' });
    const answer = await migrate('down', '--export-dir', join(blocker, 'export'));
    expect(answer.code).toBe(1);
    expect(answer.stderr).toContain(`refusing to drop chat_messages and chat_sessions: the export to ${join(blocker, 'export')} failed (ENOTDIR`);
    expect(await tables()).toEqual(['chat_messages', 'chat_sessions']);
  }, 120_000);

  it('exports everything before dropping it, then migrate up brings back a database the system serves on', async () => {
    const out = join(work, 'before-down');
    const down = await migrate('down', '--export-dir', out);
    expect(down).toMatchObject({ code: 0, stdout: `exported 5 messages and 2 sessions to ${out} (checksums in SHA256SUMS)\nreverted: 001-chat-tables\n` });
    expect(await tables()).toEqual([]);
    expect(await sha256sumCheck(out)).toContain('chat_messages.jsonl: OK');
    expect(lines(join(out, 'chat_messages.jsonl')).map((m) => m['message'])).toEqual(
      [...rows].sort((a, b) => a.session_id.localeCompare(b.session_id) || a.seq - b.seq).map((r) => r.message),
    );

    expect(await migrate('up')).toMatchObject({ code: 0, stdout: 'applied: 001-chat-tables, 12_client-msg-id-unique, 20-dead-letters, 30-workspace, 40-people, 45-search, 50-drop-session-index\n' });
    const stack = await startStack('services', { env });
    try {
      const token = await stack.token(randomUUID(), { admin: true });
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const created = await fetch(`${stack.apiUrl}/api/chat/sessions`, { method: 'POST', headers, body: JSON.stringify({ title: 'after the way back' }) });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      const posted = await fetch(`${stack.apiUrl}/api/chat/sessions/${id}/messages`, { method: 'POST', headers, body: JSON.stringify({ body: 'back again' }) });
      expect(posted.status).toBe(201);
      let stored = 0;
      for (let attempt = 0; attempt < 50 && stored === 0; attempt++) {
        stored = (await db.selectFrom('chat_messages').select('id').where('session_id', '=', id).execute()).length;
        if (stored === 0) await sleep(200);
      }
      expect(stored).toBe(1);
    } finally {
      await stack.stop();
    }
  }, 90_000);

  it('drops without a copy only when told so explicitly', async () => {
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 50-drop-session-index\n' });
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 45-search\n' });
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 40-people\n' });
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 30-workspace\n' });
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 20-dead-letters\n' });
    expect(await migrate('down')).toMatchObject({ code: 0, stdout: 'reverted: 12_client-msg-id-unique\n' });
    const answer = await migrate('down', '--skip-export');
    expect(answer).toMatchObject({ code: 0, stdout: 'reverted: 001-chat-tables\n' });
    expect(answer.stderr).toContain('--skip-export: dropping chat_messages and chat_sessions without a copy');
    expect(await tables()).toEqual([]);
  }, 120_000);
});
