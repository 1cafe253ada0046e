import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { isRunning, stopChild } from './child-process.ts';

const NATS_BIN = process.env['NATS_SERVER_BIN'] ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : '/usr/bin/nats-server');

/** One server of the cluster: its name and its client, route and monitoring ports. */
export interface NatsNode {
  readonly name: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly monitorPort: number;
}

/**
 * Three `nats-server` processes of the test's own, routed to each other with JetStream on, each
 * with its own store. From `firstPort`: client ports +0..+2, route ports +10..+12, monitoring +20..+22.
 */
export class OwnNatsCluster {
  readonly nodes: readonly NatsNode[];
  readonly #dir = mkdtempSync(join(tmpdir(), 'chat-nats-cluster-'));
  readonly #children = new Map<string, ChildProcess>();

  constructor(firstPort: number) {
    this.nodes = [0, 1, 2].map((i) => ({ name: `n${String(i + 1)}`, port: firstPort + i, clusterPort: firstPort + 10 + i, monitorPort: firstPort + 20 + i }));
  }

  /** Every server's client URL, comma-separated, as NATS_URL takes them. */
  get url(): string {
    return this.nodes.map((node) => `nats://127.0.0.1:${String(node.port)}`).join(',');
  }

  /**
   * Starts the three servers and waits for a meta leader. Give it ports below 32768: inside the OS's
   * ephemeral range any other process's socket may hold one for the whole run. A server that cannot
   * bind exits at once, and the cluster is started again, a few times, then fails with its logs.
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.#spawnAll();
      await sleep(300);
      const exited = this.nodes.filter((node) => !this.liveNodes().includes(node)).map((node) => node.name);
      if (exited.length === 0) break;
      await Promise.all(this.nodes.map((node) => this.kill(node.name)));
      if (attempt === 5) throw new Error(`nats-server ${exited.join(', ')} exited at start five times:\n${exited.map((name) => this.#logTail(name)).join('\n')}`);
      await sleep(1_000);
    }
    await this.waitForMetaLeader();
  }

  #logTail(name: string): string {
    const log = join(this.#dir, `${name}.log`);
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '(no log)';
    return `${name}: ${text.split('\n').slice(-6).join('\n')}`;
  }

  #spawnAll(): void {
    const routes = this.nodes.map((node) => `nats-route://127.0.0.1:${String(node.clusterPort)}`).join(',');
    for (const node of this.nodes) {
      rmSync(join(this.#dir, node.name), { recursive: true, force: true });
      const args = [
        '-a', '127.0.0.1', '-p', String(node.port), '-m', String(node.monitorPort),
        '--server_name', node.name, '-js', '-sd', join(this.#dir, node.name),
        '--cluster_name', 'chat-test', '--cluster', `nats://127.0.0.1:${String(node.clusterPort)}`, '--routes', routes,
        '-l', join(this.#dir, `${node.name}.log`),
      ];
      this.#children.set(node.name, spawn(NATS_BIN, args, { stdio: 'ignore' }));
    }
  }

  /** Until a live server names a JetStream meta leader that is alive: streams can be created and moved. */
  async waitForMetaLeader(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const node of this.liveNodes()) {
        const leader = await jsz(node).then((report) => report.meta_cluster?.leader, () => undefined);
        if (leader !== undefined && leader !== '' && this.liveNodes().some((live) => live.name === leader)) return leader;
      }
      if (Date.now() > deadline) throw new Error(`the NATS cluster elected no JetStream meta leader within ${String(timeoutMs)} ms (logs in ${this.#dir})`);
      await sleep(100);
    }
  }

  /** The server that leads a stream's replicas now, from JetStream stream info (undefined while none does). */
  async streamLeader(stream: string): Promise<NatsNode | undefined> {
    const servers = this.liveNodes().map((node) => `nats://127.0.0.1:${String(node.port)}`);
    if (servers.length === 0) return undefined;
    const nc = await connect({ servers, timeout: 2_000 }).catch(() => undefined);
    if (!nc) return undefined;
    try {
      // No API check: while the cluster has no meta leader it times out; the info below may too.
      const info = await (await jetstreamManager(nc, { timeout: 2_000, checkAPI: false })).streams.info(stream).catch(() => undefined);
      return this.liveNodes().find((node) => node.name === info?.cluster?.leader);
    } finally {
      await nc.close();
    }
  }

  node(name: string): NatsNode {
    const found = this.nodes.find((node) => node.name === name);
    if (!found) throw new Error(`no NATS node named ${name}`);
    return found;
  }

  /** kill -9 of one server, as a crash. */
  async kill(name: string): Promise<void> {
    const child = this.#children.get(name);
    if (child) await stopChild(child);
  }

  liveNodes(): NatsNode[] {
    return this.nodes.filter((node) => {
      const child = this.#children.get(node.name);
      return child !== undefined && isRunning(child);
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.kill(node.name)));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

interface JszReport {
  meta_cluster?: { leader?: string };
}

async function jsz(node: NatsNode): Promise<JszReport> {
  const response = await fetch(`http://127.0.0.1:${String(node.monitorPort)}/jsz`, { signal: AbortSignal.timeout(1_000) });
  if (!response.ok) throw new Error(`/jsz on ${node.name} answered ${String(response.status)}`);
  return (await response.json()) as JszReport;
}
