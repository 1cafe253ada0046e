import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createDatabase } from '@chat/db';
import { sql } from 'kysely';
import { describeWithServices, POSTGRES, TEST_DATABASE_URL } from '../support/services.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const describeReal = await describeWithServices(POSTGRES);

async function migrate(databaseUrl: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['libs/db/src/cli.ts', ...args], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describeReal('pnpm migrate', () => {
  const name = `migrate_cli_${randomUUID().replaceAll('-', '')}`;
  const admin = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;

  beforeAll(async () => {
    await sql`create database ${sql.id(name)}`.execute(admin);
  });

  afterAll(async () => {
    await sql`drop database ${sql.id(name)} with (force)`.execute(admin);
    await admin.destroy();
  });

  it('applies pending migrations with up, reverts the latest with down, and says when there is nothing to do', async () => {
    expect(await migrate(url.toString(), 'up')).toMatchObject({ code: 0, stdout: 'applied: 001-chat-tables, 12_client-msg-id-unique, 20-dead-letters, 30-workspace, 40-people, 45-search, 50-drop-session-index\n' });
    expect(await migrate(url.toString())).toMatchObject({ code: 0, stdout: 'nothing to migrate up\n' });
    expect(await migrate(url.toString(), 'down')).toMatchObject({ code: 0, stdout: 'reverted: 50-drop-session-index\n' });
    expect(await migrate(url.toString(), 'down')).toMatchObject({ code: 0, stdout: 'reverted: 45-search\n' });
    expect(await migrate(url.toString(), 'down')).toMatchObject({ code: 0, stdout: 'reverted: 40-people\n' });
    expect(await migrate(url.toString(), 'down')).toMatchObject({ code: 0, stdout: 'reverted: 30-workspace\n' });
    expect(await migrate(url.toString(), 'down')).toMatchObject({ code: 0, stdout: 'reverted: 20-dead-letters\n' });
    expect(await migrate(url.toString(), 'down')).toMatchObject({ code: 0, stdout: 'reverted: 12_client-msg-id-unique\n' });
    const exportDir = mkdtempSync(join(tmpdir(), 'migrate-cli-'));
    const down = await migrate(url.toString(), 'down', '--export-dir', exportDir);
    expect(down).toMatchObject({ code: 0 });
    expect(down.stdout).toBe(`exported 0 messages and 0 sessions to ${exportDir} (checksums in SHA256SUMS)\nreverted: 001-chat-tables\n`);
    expect(await migrate(url.toString(), 'down')).toMatchObject({ code: 0, stdout: 'nothing to migrate down\n' });
    rmSync(exportDir, { recursive: true, force: true });
  }, 90_000);

  it('refuses an unknown direction and a bad DATABASE_URL with one clear line', async () => {
    expect(await migrate(url.toString(), 'sideways')).toMatchObject({ code: 64, stderr: 'usage: pnpm migrate [up|down] [--export-dir <dir>] [--skip-export] (got "sideways")\n' });
    const bad = await migrate('mysql://nope');
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/^configuration error: DATABASE_URL: /);
  }, 30_000);

  it('fails with a message naming the cause when the database cannot be reached', async () => {
    const unreachable = await migrate('postgres://postgres@127.0.0.1:1/test', 'up');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^migration failed: .*ECONNREFUSED/);
  }, 30_000);
});
