import { spawn } from 'node:child_process';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { natsServers, type QueueNames } from './servers/chat-system.ts';

export class InfraError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfraError';
  }
}

/** Creates the benchmark's own database when missing, so runs never write into the test database. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = url.pathname.replace(/^\//, '');
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new InfraError(`unexpected database name "${name}"`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  try {
    await client.connect();
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database ${name}`);
  } catch (error) {
    throw new InfraError(`PostgreSQL at ${url.host} is not usable: ${(error as Error).message}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs the project's migrations (`pnpm migrate`) on the benchmark database. */
export function migrate(repoRoot: string, databaseUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['libs/db/src/cli.ts', 'up'], {
      cwd: repoRoot,
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new InfraError(`migrations failed (${code}): ${stderr.trim()}`))));
  });
}

/** Removes a run's JetStream stream (and with it its consumers), to leave no backlog on disk. */
export async function deleteStream(natsUrl: string, queue: QueueNames): Promise<void> {
  const nc = await natsConnect({ servers: natsServers(natsUrl) });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(queue.stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

export async function withPg<T>(databaseUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
