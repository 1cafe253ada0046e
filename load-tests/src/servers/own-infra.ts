import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import pg from 'pg';
import { sleep } from '../context.ts';
import { ensureDatabase, InfraError, migrate } from '../infra.ts';
import { groupSource, processSource, treeSource, type CpuSource } from '../proc-stats.ts';
import type { InfraUrls } from './chat-system.ts';
import { candidatePort } from './service-process.ts';

const NATS_BIN = process.env['NATS_SERVER_BIN'] ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : '/usr/bin/nats-server');
const REDIS_BIN = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';
const PG_BIN = process.env['PG_BIN'] ?? newestPostgresBin();

function newestPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a)) : [];
  return join(root, majors[0] ?? '15', 'bin');
}

/** What the durable tiers promise: JetStream replicas (R3 is a three-server cluster) and PostgreSQL's commit. */
export interface Durability {
  jetstreamReplicas: 1 | 3;
  synchronousCommit: 'on' | 'off';
}

export const DEFAULT_DURABILITY: Durability = { jetstreamReplicas: 1, synchronousCommit: 'on' };

export function describeDurability(d: Durability): string {
  return `JetStream R${d.jetstreamReplicas}, synchronous_commit ${d.synchronousCommit}`;
}

/**
 * Redis, NATS JetStream and a PostgreSQL cluster of the run's own, on ports of its own, so the CPU
 * each uses is the benchmark's alone (the machine's shared servers also serve other work) and
 * durability settings can be changed without touching anyone else's server.
 */
export class OwnInfra {
  readonly #dir: string;
  readonly #logDir: string;
  readonly #redis: ChildProcess;
  readonly #redisPort: number;
  readonly #postgres: ChildProcess;
  readonly #pgPort: number;
  #nats: ChildProcess[] = [];
  #natsPorts: number[] = [];
  #durability: Durability = DEFAULT_DURABILITY;

  private constructor(dir: string, logDir: string, redis: { child: ChildProcess; port: number }, postgres: { child: ChildProcess; port: number }) {
    this.#dir = dir;
    this.#logDir = logDir;
    this.#redis = redis.child;
    this.#redisPort = redis.port;
    this.#postgres = postgres.child;
    this.#pgPort = postgres.port;
  }

  static async start(options: { repoRoot: string; logDir: string }): Promise<OwnInfra> {
    const dir = mkdtempSync(join(tmpdir(), 'chat-bench-infra-'));
    const started: ChildProcess[] = [];
    try {
      const redisPort = await candidatePort();
      const redis = launch(REDIS_BIN, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no'], join(options.logDir, 'own-redis.log'));
      started.push(redis);
      const postgres = await startPostgres(dir, options.logDir);
      started.push(postgres.child);
      const infra = new OwnInfra(dir, options.logDir, { child: redis, port: redisPort }, postgres);
      await waitUntil(`redis on ${redisPort}`, () => portAnswers(redisPort), 15_000);
      await infra.#startNats(1);
      await ensureDatabase(infra.urls.databaseUrl);
      await migrate(options.repoRoot, infra.urls.databaseUrl);
      return infra;
    } catch (error) {
      await Promise.all(started.map(stopChild));
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get urls(): InfraUrls {
    return {
      redisUrl: `redis://127.0.0.1:${this.#redisPort}`,
      natsUrl: this.#natsPorts.map((port) => `nats://127.0.0.1:${port}`).join(','),
      databaseUrl: `postgres://postgres@127.0.0.1:${this.#pgPort}/chat_bench`,
    };
  }

  get durability(): Durability {
    return this.#durability;
  }

  /**
   * What the harness samples: each server, and PostgreSQL as the postmaster's whole tree
   * (backends, WAL writer, checkpointer, autovacuum), since this cluster serves the run alone.
   */
  cpuSources(): CpuSource[] {
    const natsPids = this.#nats.map((child) => child.pid ?? -1);
    return [processSource('redis', this.#redis.pid ?? -1), groupSource('nats', natsPids), treeSource('postgres', this.#postgres.pid ?? -1)];
  }

  /** Moves to other durability settings: a reload for PostgreSQL, fresh servers for JetStream. */
  async apply(durability: Durability): Promise<void> {
    if (durability.synchronousCommit !== this.#durability.synchronousCommit) {
      const client = new pg.Client({ connectionString: this.urls.databaseUrl });
      await client.connect();
      try {
        await client.query(`alter system set synchronous_commit = ${durability.synchronousCommit === 'on' ? 'on' : 'off'}`);
        await client.query('select pg_reload_conf()');
      } finally {
        await client.end();
      }
    }
    if (durability.jetstreamReplicas !== this.#durability.jetstreamReplicas) {
      await Promise.all(this.#nats.map(stopChild));
      await this.#startNats(durability.jetstreamReplicas);
    }
    this.#durability = durability;
  }

  async #startNats(replicas: 1 | 3): Promise<void> {
    const clientPorts: number[] = [];
    const routePorts: number[] = [];
    for (let i = 0; i < replicas; i++) {
      clientPorts.push(await candidatePort());
      if (replicas > 1) routePorts.push(await candidatePort());
    }
    const routes = routePorts.map((port) => `nats-route://127.0.0.1:${port}`).join(',');
    this.#natsPorts = clientPorts;
    this.#nats = clientPorts.map((port, i) => {
      const name = `n${i + 1}`;
      const store = join(this.#dir, `nats-r${replicas}-${name}`);
      const cluster = replicas > 1 ? ['--server_name', name, '--cluster_name', 'bench', '--cluster', `nats://127.0.0.1:${routePorts[i] ?? 0}`, '--routes', routes] : [];
      return launch(NATS_BIN, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store, ...cluster], join(this.#logDir, `own-nats-r${replicas}-${name}.log`));
    });
    // JetStream answers its API once a cluster has elected its meta leader.
    await waitUntil(`JetStream R${replicas}`, () => jetStreamAnswers(this.urls.natsUrl), 60_000);
  }

  async stop(): Promise<void> {
    await Promise.all([this.#redis, this.#postgres, ...this.#nats].map(stopChild));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

async function startPostgres(dir: string, logDir: string): Promise<{ child: ChildProcess; port: number }> {
  const dataDir = join(dir, 'pg');
  // PostgreSQL refuses to run as root: the cluster belongs to user postgres then.
  const owner: { uid?: number; gid?: number } = process.getuid?.() === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) } : {};
  mkdirSync(dataDir);
  if (owner.uid !== undefined && owner.gid !== undefined) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(dataDir, owner.uid, owner.gid);
  }
  execFileSync(join(PG_BIN, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions'], { stdio: 'ignore', ...owner });
  const port = await candidatePort();
  const child = launch(
    join(PG_BIN, 'postgres'),
    ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on', '-c', 'synchronous_commit=on'],
    join(logDir, 'own-postgres.log'),
    owner,
  );
  await waitUntil(`postgres on ${port}`, () => pgAnswers(port), 60_000);
  return { child, port };
}

function launch(command: string, args: string[], logFile: string, owner: { uid?: number; gid?: number } = {}): ChildProcess {
  const log = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', log, log], ...owner });
  child.once('error', () => undefined);
  return child;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // SIGINT is PostgreSQL's fast shutdown; Redis and NATS end on it too.
    child.kill('SIGINT');
  });
}

async function waitUntil(what: string, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await ready()) return;
    await sleep(200);
  }
  throw new InfraError(`${what} did not come up within ${timeoutMs} ms`);
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function pgAnswers(port: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function jetStreamAnswers(servers: string): Promise<boolean> {
  const nc = await natsConnect({ servers: servers.split(','), timeout: 1000 }).catch(() => null);
  if (!nc) return false;
  try {
    await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo();
    return true;
  } catch {
    return false;
  } finally {
    await nc.close().catch(() => undefined);
  }
}
