import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { candidatePort } from './ports.ts';

/**
 * A TCP pass-through to a real server that a test can cut and restore, to play a dependency
 * going away and coming back without touching the shared server itself.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  readonly #pairs = new Set<readonly [Socket, Socket]>();
  #server: Server | undefined;
  #port = 0;

  /** `listenPort`: a fixed port to listen on; a free one is picked when omitted. */
  constructor(target: { host: string; port: number }, listenPort = 0) {
    this.#target = target;
    this.#port = listenPort;
  }

  get port(): number {
    return this.#port;
  }

  /** Listens on a free port the first time, on the same port afterwards. */
  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#target.port, this.#target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      const pair = [client, upstream] as const;
      this.#pairs.add(pair);
      client.on('close', () => this.#pairs.delete(pair));
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /**
   * Stops forwarding on the open connections but keeps them open, as a network that silently
   * loses packets does: requests already sent go unanswered and neither side sees a close.
   */
  hold(): void {
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Forwards again on the connections held by hold(), what waited included. */
  release(): void {
    for (const [client, upstream] of this.#pairs) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
  }

  /** Drops every open connection; with `stopListening` new ones are refused as well. */
  async cut(options: { stopListening: boolean }): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.#pairs.clear();
    if (!options.stopListening || !this.#server) return;
    const server = this.#server;
    this.#server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  stop(): Promise<void> {
    return this.cut({ stopListening: true });
  }
}

/** A port where nothing listens: bound once by the OS, then released. */
export function closedPort(): Promise<number> {
  return candidatePort();
}
