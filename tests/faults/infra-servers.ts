import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { createDatabase } from '@chat/db';
import { sql } from 'kysely';
import { ManagedProcess, waitFor } from './managed-process.ts';

/** A process the fault suite can crash, freeze and bring back. */
export interface FaultTarget {
  readonly name: string;
  readonly process: ManagedProcess;
  /** Starts (or restarts after a kill) and resolves once it serves. */
  start(): Promise<void>;
}

const PG_BIN = process.env['PG_BIN'] ?? newestPostgresBin();
const NATS_BIN = process.env['NATS_SERVER_BIN'] ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : '/usr/bin/nats-server');
const REDIS_BIN = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';

/** The newest PostgreSQL of the Debian layout (/usr/lib/postgresql/<major>/bin). */
function newestPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a)) : [];
  return join(root, majors[0] ?? '15', 'bin');
}

/** The server programs the suite starts that this machine lacks. */
export function missingServerBinaries(): string[] {
  const onPath = (name: string) => (process.env['PATH'] ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, name)));
  const missing: string[] = [];
  if (!(REDIS_BIN.includes('/') ? existsSync(REDIS_BIN) : onPath(REDIS_BIN))) missing.push(REDIS_BIN);
  if (!existsSync(NATS_BIN)) missing.push(NATS_BIN);
  for (const program of ['initdb', 'postgres']) if (!existsSync(join(PG_BIN, program))) missing.push(join(PG_BIN, program));
  return missing;
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

interface TcpServerSpec {
  name: string;
  port: number;
  /** Its own folder: data and log. */
  dir: string;
  url: string;
  command: string;
  args: string[];
  host: string;
}

/** A server of one program that serves once its TCP port accepts connections. */
class TcpServer implements FaultTarget {
  readonly name: string;
  readonly process: ManagedProcess;
  readonly url: string;
  readonly port: number;
  readonly host: string;

  constructor(spec: TcpServerSpec) {
    this.name = spec.name;
    this.port = spec.port;
    this.host = spec.host;
    this.url = spec.url;
    mkdirSync(spec.dir, { recursive: true });
    this.process = new ManagedProcess({ name: spec.name, command: spec.command, args: spec.args, logFile: join(spec.dir, `${spec.name}.log`) });
  }

  async start(): Promise<void> {
    this.process.start();
    await waitFor(`${this.name} on ${this.port}`, () => portOpen(this.port, this.host), 15_000);
  }
}

/** Redis as production runs it (no persistence): a restart loses every session's live state. */
export class RedisServer extends TcpServer {
  /** `host`: the address it listens on (127.0.0.1 unless hosts in namespaces must reach it). */
  constructor(port: number, dir: string, host = '127.0.0.1') {
    const args = ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no'];
    super({ name: 'redis', port, dir, url: `redis://${host}:${port}`, command: REDIS_BIN, args, host });
  }
}

/** NATS with JetStream, its store on disk, so a restart keeps every stored message. */
export class NatsServer extends TcpServer {
  constructor(port: number, dir: string, host = '127.0.0.1') {
    const args = ['-a', host, '-p', String(port), '-js', '-sd', join(dir, 'store')];
    super({ name: 'nats', port, dir, url: `nats://${host}:${port}`, command: NATS_BIN, args, host });
  }
}

/** A PostgreSQL cluster of the suite's own (initdb in a temporary folder, run as user postgres). */
export class PostgresServer implements FaultTarget {
  readonly name = 'postgres';
  readonly process: ManagedProcess;
  readonly url: string;
  readonly #dataDir: string;
  readonly #host: string;
  readonly #owner: { uid: number; gid: number } | undefined;

  readonly port: number;

  constructor(port: number, dir: string, host = '127.0.0.1') {
    this.port = port;
    mkdirSync(dir, { recursive: true });
    this.#dataDir = join(dir, 'data');
    this.#host = host;
    this.url = `postgres://postgres@${host}:${port}/chat`;
    this.#owner = process.getuid?.() === 0 ? userIds('postgres') : undefined;
    if (this.#owner) chownSync(dir, this.#owner.uid, this.#owner.gid);
    this.process = new ManagedProcess({
      name: this.name,
      command: join(PG_BIN, 'postgres'),
      args: ['-D', this.#dataDir, '-p', String(port), '-k', dir, '-c', `listen_addresses=${host}`, '-c', 'max_connections=200', '-c', 'synchronous_commit=on', '-c', 'fsync=on'],
      ...(this.#owner ?? {}),
      logFile: join(dir, 'postgres.log'),
    });
  }

  /** initdb (once) and the database the services use. */
  async init(): Promise<void> {
    execFileSync(join(PG_BIN, 'initdb'), ['-D', this.#dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions'], {
      stdio: 'ignore',
      ...(this.#owner ?? {}),
    });
    // initdb trusts loopback only; hosts in namespaces connect from the subnets of their links.
    if (this.#host !== '127.0.0.1') appendFileSync(join(this.#dataDir, 'pg_hba.conf'), 'host all all samenet trust\n');
    await this.start();
    const admin = createDatabase({ kind: 'postgres', url: this.url.replace(/\/chat$/, '/postgres'), maxConnections: 1 });
    try {
      await sql`create database chat`.execute(admin);
    } finally {
      await admin.destroy();
    }
  }

  /** After a kill -9 the old backends may hold shared memory for a moment: start again until it takes. */
  async start(): Promise<void> {
    await waitFor(
      `postgres on ${this.port}`,
      async () => {
        if (!this.process.running) this.process.start();
        return this.#accepts();
      },
      60_000,
      250,
    );
  }

  async #accepts(): Promise<boolean> {
    const probe = createDatabase({ kind: 'postgres', url: this.url.replace(/\/chat$/, '/postgres'), maxConnections: 1, queryTimeoutMs: 1000 });
    try {
      await sql`select 1`.execute(probe);
      return true;
    } catch {
      return false;
    } finally {
      await probe.destroy().catch(() => undefined);
    }
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return { uid, gid };
}
