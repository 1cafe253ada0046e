import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOnFreePort } from './service-process.ts';
import type { Endpoint } from './chat-system.ts';

/** The two baselines: Socket.IO with its Redis adapter, and the bare `ws` + `ioredis` relay. */
export type BaselineKind = 'socketio' | 'relay';

const NODES: Record<BaselineKind, { script: string; portVariable: string; prefixVariable: string }> = {
  socketio: { script: fileURLToPath(new URL('./socketio-node.ts', import.meta.url)), portVariable: 'SIO_PORT', prefixVariable: 'SIO_KEY_PREFIX' },
  relay: { script: fileURLToPath(new URL('./relay-node.ts', import.meta.url)), portVariable: 'RELAY_PORT', prefixVariable: 'RELAY_CHANNEL_PREFIX' },
};

/** N nodes of a baseline joined through Redis, each its own process. */
export class BaselineSystem {
  readonly kind: BaselineKind;
  readonly nodes: Endpoint[];

  private constructor(kind: BaselineKind, nodes: Endpoint[]) {
    this.kind = kind;
    this.nodes = nodes;
  }

  static async start(options: { kind: BaselineKind; nodes: number; logDir: string; secret: string; redisUrl: string; keyPrefix: string }): Promise<BaselineSystem> {
    const spec = NODES[options.kind];
    const nodes: Endpoint[] = [];
    try {
      for (let i = 0; i < options.nodes; i++) {
        const name = `${options.kind}-${i + 1}`;
        const { port, service } = await startOnFreePort((candidate) => ({
          name,
          script: spec.script,
          cwd: process.cwd(),
          env: { NODE_ENV: 'production', [spec.portVariable]: String(candidate), REDIS_URL: options.redisUrl, JWT_SECRET: options.secret, [spec.prefixVariable]: options.keyPrefix },
          readyUrl: `http://127.0.0.1:${candidate}/readyz`,
          logFile: join(options.logDir, `${name}.log`),
        }));
        nodes.push({ url: `http://127.0.0.1:${port}`, process: service });
      }
      return new BaselineSystem(options.kind, nodes);
    } catch (error) {
      await Promise.all(nodes.map((node) => node.process.stop()));
      throw error;
    }
  }

  /** Socket.IO clients take the http URL; the relay speaks the gateway's WebSocket path. */
  get targets(): string[] {
    return this.nodes.map((node) => (this.kind === 'relay' ? node.url.replace(/^http/, 'ws') : node.url));
  }

  get pids(): number[] {
    return this.nodes.map((node) => node.process.pid);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.process.stop()));
  }
}
