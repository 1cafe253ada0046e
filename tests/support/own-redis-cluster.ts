import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { OwnRedis } from './own-redis.ts';

/** A three-master Redis Cluster of the test's own, on three consecutive ports. */
export class OwnRedisCluster {
  readonly ports: readonly number[];
  readonly #dir = mkdtempSync(join(tmpdir(), 'chat-redis-cluster-'));
  readonly #children: ChildProcess[] = [];

  constructor(firstPort: number) {
    this.ports = [firstPort, firstPort + 1, firstPort + 2];
  }

  async start(): Promise<void> {
    for (const port of this.ports) {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(this.#dir, `nodes-${String(port)}.conf`), '--save', '', '--appendonly', 'no', '--dir', this.#dir];
      this.#children.push(spawn(OwnRedis.binary(), args, { stdio: 'ignore' }));
    }
    for (const port of this.ports) await waitForPing(port);
    await new Promise<void>((resolve, reject) => {
      execFile('redis-cli', ['--cluster', 'create', ...this.ports.map((port) => `127.0.0.1:${String(port)}`), '--cluster-replicas', '0', '--cluster-yes'], (error) => (error ? reject(new Error('redis-cli --cluster create failed', { cause: error })) : resolve()));
    });
    for (const port of this.ports) await waitForClusterOk(port);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#children.map((child) => {
        if (child.exitCode !== null) return Promise.resolve();
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return exited;
      }),
    );
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

async function waitForClusterOk(port: number): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1' });
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      const info = await client.cluster('INFO');
      if (info.includes('cluster_state:ok')) return;
      await sleep(100);
    }
    throw new Error('the cluster did not reach cluster_state:ok');
  } finally {
    client.disconnect();
  }
}
