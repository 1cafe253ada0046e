import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOnFreePort } from './service-process.ts';
import type { Endpoint } from './chat-system.ts';

const NODE_SCRIPT = fileURLToPath(new URL('./socketio-node.ts', import.meta.url));

/** The baseline: N Socket.IO nodes joined by the Redis adapter. */
export class SocketIoSystem {
  readonly nodes: Endpoint[];

  private constructor(nodes: Endpoint[]) {
    this.nodes = nodes;
  }

  static async start(options: { nodes: number; logDir: string; secret: string; redisUrl: string; keyPrefix: string }): Promise<SocketIoSystem> {
    const nodes: Endpoint[] = [];
    try {
      for (let i = 0; i < options.nodes; i++) {
        const { port, service } = await startOnFreePort((candidate) => ({
          name: `socketio-${i + 1}`,
          script: NODE_SCRIPT,
          cwd: process.cwd(),
          env: { NODE_ENV: 'production', SIO_PORT: String(candidate), REDIS_URL: options.redisUrl, JWT_SECRET: options.secret, SIO_KEY_PREFIX: options.keyPrefix },
          readyUrl: `http://127.0.0.1:${candidate}/readyz`,
          logFile: join(options.logDir, `socketio-${i + 1}.log`),
        }));
        nodes.push({ url: `http://127.0.0.1:${port}`, process: service });
      }
      return new SocketIoSystem(nodes);
    } catch (error) {
      await Promise.all(nodes.map((node) => node.process.stop()));
      throw error;
    }
  }

  get wsUrls(): string[] {
    return this.nodes.map((node) => node.url.replace(/^http/, 'ws'));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.process.stop()));
  }
}
