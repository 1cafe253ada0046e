import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, migrateToLatest } from '@chat/db';
import { TcpProxyProcess } from '../support/tcp-proxy-process.ts';
import { ChatService, type ServiceRole } from './chat-services.ts';
import type { HostNetwork } from './host-network.ts';
import { NatsServer, PostgresServer, RedisServer, type FaultTarget } from './infra-servers.ts';

/** Fixed offsets from the port base, so a restarted part comes back where its clients look for it. */
const OFFSETS = { redis: 379, redisProxy: 380, nats: 422, natsProxy: 423, postgres: 432, gatewayA: 80, gatewayB: 90, api: 81, persister: 82 } as const;

export interface FaultStackOptions {
  repoRoot: string;
  /** Every port the stack listens on is this plus a fixed offset below 500. */
  portBase: number;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Runs each gateway on a host of its own (a network namespace), reached only over that host's links. */
  hosts?: HostNetwork;
}

/**
 * Everything the fault suite runs and breaks, as its own child processes on its own ports:
 * Redis, NATS JetStream and PostgreSQL, two gateways, the session-api and the persister.
 * Gateway A reaches Redis and NATS through proxies, so it alone can be cut from either.
 */
export class FaultStack {
  readonly dir: string;
  readonly secret = randomBytes(32).toString('hex');
  readonly redis: RedisServer;
  readonly nats: NatsServer;
  readonly postgres: PostgresServer;
  readonly redisProxy: TcpProxyProcess;
  readonly natsProxy: TcpProxyProcess;
  readonly gateways: readonly [ChatService, ChatService];
  readonly api: ChatService;
  readonly persister: ChatService;
  readonly hosts: HostNetwork | undefined;

  constructor(options: FaultStackOptions) {
    const base = options.portBase;
    this.dir = mkdtempSync(join(tmpdir(), 'chat-faults-'));
    // PostgreSQL runs as its own user and must reach its folder inside.
    chmodSync(this.dir, 0o755);
    const logDir = join(this.dir, 'logs');
    mkdirSync(logDir);
    this.hosts = options.hosts;
    // With hosts, the servers listen where both hosts' links lead.
    const serversAddress = options.hosts?.serversAddress ?? '127.0.0.1';
    this.redis = new RedisServer(base + OFFSETS.redis, join(this.dir, 'redis'), serversAddress);
    this.nats = new NatsServer(base + OFFSETS.nats, join(this.dir, 'nats'), serversAddress);
    this.postgres = new PostgresServer(base + OFFSETS.postgres, join(this.dir, 'postgres'), serversAddress);
    // In processes of their own: in the suite's process, beside hundreds of clients, the proxied link would be starved of CPU.
    this.redisProxy = new TcpProxyProcess({ host: serversAddress, port: this.redis.port }, base + OFFSETS.redisProxy);
    this.natsProxy = new TcpProxyProcess({ host: serversAddress, port: this.nats.port }, base + OFFSETS.natsProxy);
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      JWT_SECRET: this.secret,
      REDIS_URL: this.redis.url,
      NATS_URL: this.nats.url,
      DATABASE_URL: this.postgres.url,
      SHUTDOWN_GRACE_MS: '3000',
      // The fleet creates all its sessions at once, as one backend user: hundreds in a soak.
      SESSION_CREATE_PER_MINUTE: '100000',
      ...options.env,
    };
    const service = (name: string, role: ServiceRole, port: number, extra: Record<string, string> = {}) =>
      new ChatService({ name, role, port: base + port, repoRoot: options.repoRoot, logDir, env: { ...env, ...extra } });
    const hosts = options.hosts;
    this.gateways = hosts
      ? [
          new ChatService({ ...gatewayOnHost(hosts, 0), name: 'gateway-a', role: 'gateway', port: base + OFFSETS.gatewayA, repoRoot: options.repoRoot, logDir, env }),
          new ChatService({ ...gatewayOnHost(hosts, 1), name: 'gateway-b', role: 'gateway', port: base + OFFSETS.gatewayB, repoRoot: options.repoRoot, logDir, env }),
        ]
      : [
          service('gateway-a', 'gateway', OFFSETS.gatewayA, { REDIS_URL: `redis://127.0.0.1:${base + OFFSETS.redisProxy}`, NATS_URL: `nats://127.0.0.1:${base + OFFSETS.natsProxy}` }),
          service('gateway-b', 'gateway', OFFSETS.gatewayB),
        ];
    this.api = service('session-api', 'session-api', OFFSETS.api);
    this.persister = service('persister', 'persister', OFFSETS.persister);
    // The processes run in groups of their own, so they would outlive an interrupted run.
    process.once('exit', this.#killAll);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  }

  readonly #killAll = () => {
    for (const part of [...this.services, ...this.infrastructure]) {
      part.process.signal('SIGCONT');
      part.process.signal('SIGKILL');
    }
  };

  get services(): readonly ChatService[] {
    return [...this.gateways, this.api, this.persister];
  }

  get infrastructure(): readonly FaultTarget[] {
    return [this.redis, this.nats, this.postgres];
  }

  async start(): Promise<void> {
    this.hosts?.up();
    await this.redis.start();
    await this.nats.start();
    await this.postgres.init();
    const db = createDatabase({ kind: 'postgres', url: this.postgres.url, maxConnections: 1 });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    await this.redisProxy.start();
    await this.natsProxy.start();
    // The session-api first: it is the one that creates the JetStream stream the others use.
    for (const part of [this.api, ...this.gateways, this.persister]) await part.start();
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.services.map((part) => part.retire()));
    await Promise.allSettled([this.redisProxy.stop(), this.natsProxy.stop()]);
    await Promise.allSettled(this.infrastructure.map((part) => part.process.stop()));
    for (const part of [...this.services, ...this.infrastructure]) part.process.close();
    this.hosts?.down();
    process.off('exit', this.#killAll);
  }
}

/** A gateway that runs inside host `index`'s namespace and listens on that host's address. */
function gatewayOnHost(hosts: HostNetwork, index: 0 | 1): { host: string; wrap: (command: string, args: readonly string[]) => { command: string; args: string[] } } {
  const host = hosts.hosts[index];
  return { host: host.address, wrap: (command, args) => hosts.commandOn(host, command, args) };
}
