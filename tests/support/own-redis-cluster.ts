import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { OwnRedis } from './own-redis.ts';
import { isRunning, stopChild } from './child-process.ts';

export interface OwnRedisClusterOptions {
  /** Replicas per master (0 by default): with 1, a killed master's replica takes over. */
  replicas?: number;
  /** cluster-node-timeout: how long a master may be silent before its replica is promoted. */
  nodeTimeoutMs?: number;
}

/**
 * Each node's cluster bus listens this far above its client port. Named rather than Redis's default
 * (+10000), which would put the bus of a node below 32768 inside the OS's ephemeral range, where any
 * other process's socket may hold it.
 */
const CLUSTER_BUS_OFFSET = 1_000;

/**
 * A three-master Redis Cluster of the test's own, on consecutive ports (3 × (1 + replicas)), each
 * node's cluster bus 1000 above. Give it ports below 32768: the OS never hands those out on its own.
 */
export class OwnRedisCluster {
  readonly ports: readonly number[];
  readonly #replicas: number;
  readonly #nodeTimeoutMs: number;
  readonly #dir = mkdtempSync(join(tmpdir(), 'chat-redis-cluster-'));
  readonly #children = new Map<number, ChildProcess>();

  constructor(firstPort: number, options: OwnRedisClusterOptions = {}) {
    this.#replicas = options.replicas ?? 0;
    this.#nodeTimeoutMs = options.nodeTimeoutMs ?? 15_000;
    this.ports = Array.from({ length: 3 * (1 + this.#replicas) }, (_, i) => firstPort + i);
  }

  /** A seed URL for REDIS_URL with REDIS_MODE=cluster. */
  get url(): string {
    return `redis://127.0.0.1:${String(this.ports[0])}`;
  }

  async start(): Promise<void> {
    for (const port of this.ports) {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(port + CLUSTER_BUS_OFFSET), '--cluster-config-file', join(this.#dir, `nodes-${String(port)}.conf`), '--cluster-node-timeout', String(this.#nodeTimeoutMs), '--save', '', '--appendonly', 'no', '--dir', this.#dir];
      this.#children.set(port, spawn(OwnRedis.binary(), args, { stdio: 'ignore' }));
    }
    for (const port of this.ports) await waitForPing(port);
    await new Promise<void>((resolve, reject) => {
      execFile('redis-cli', ['--cluster', 'create', ...this.ports.map((port) => `127.0.0.1:${String(port)}`), '--cluster-replicas', String(this.#replicas), '--cluster-yes'], (error) => (error ? reject(new Error('redis-cli --cluster create failed', { cause: error })) : resolve()));
    });
    await this.waitUntilHealthy();
  }

  /** Until every live node says cluster_state:ok and, with replicas, each master has one in sync. */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const masters = await this.masterPorts().catch(() => []);
      let ok = masters.length === 3;
      for (const port of this.livePorts()) if (ok) ok = (await clusterCommand(port, 'INFO')).includes('cluster_state:ok');
      if (ok && this.#replicas > 0) for (const port of masters) if (ok) ok = (await info(port, 'replication')).includes('slave0:') && !(await info(port, 'replication')).includes('state=wait_bgsave');
      if (ok) return;
      if (Date.now() > deadline) throw new Error('the cluster did not become healthy');
      await sleep(100);
    }
  }

  /** The ports of the nodes that are masters now, as the live nodes see it. */
  async masterPorts(): Promise<number[]> {
    const nodes = await clusterCommand(this.livePorts()[0] ?? 0, 'NODES');
    return nodes
      .split('\n')
      .filter((line) => / (myself,)?master /.test(line) && !line.includes('fail'))
      .map((line) => Number(/:(\d+)@/.exec(line)?.[1]))
      .filter((port) => this.livePorts().includes(port));
  }

  /** The port of the live master serving a slot. */
  async masterOf(slot: number): Promise<number> {
    const nodes = await clusterCommand(this.livePorts()[0] ?? 0, 'NODES');
    for (const line of nodes.split('\n')) {
      if (!/ (myself,)?master /.test(line) || line.includes('fail')) continue;
      const port = Number(/:(\d+)@/.exec(line)?.[1]);
      for (const range of line.split(' ').slice(8)) {
        const [from, to] = range.split('-').map(Number);
        if (from !== undefined && slot >= from && slot <= (to ?? from)) return port;
      }
    }
    throw new Error(`no live master serves slot ${String(slot)}`);
  }

  /** SIGSTOP: the node keeps its sockets and accepts connections, and answers nothing. */
  pause(port: number): void {
    this.#children.get(port)?.kill('SIGSTOP');
  }

  resume(port: number): void {
    this.#children.get(port)?.kill('SIGCONT');
  }

  /** Drops every pub/sub connection of one node, as a network blip would. */
  async dropSubscribers(port: number): Promise<void> {
    await withNode(port, (client) => client.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
  }

  /** kill -9 of one node, as a crash. */
  async kill(port: number): Promise<void> {
    const child = this.#children.get(port);
    if (child) await stopChild(child);
  }

  livePorts(): number[] {
    return [...this.#children].filter(([, child]) => isRunning(child)).map(([port]) => port);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#children.keys()].map((port) => this.kill(port)));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

async function waitForPing(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      await sleep(100);
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`redis-server did not start on port ${String(port)}`);
}

async function withNode<T>(port: number, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

function clusterCommand(port: number, sub: 'INFO' | 'NODES'): Promise<string> {
  return withNode(port, (client) => client.call('CLUSTER', sub) as Promise<string>);
}

function info(port: number, section: string): Promise<string> {
  return withNode(port, (client) => client.info(section));
}
