/**
 * A TcpProxy in a process of its own, driven over IPC by tests/support/tcp-proxy-process.ts, so
 * the bytes it forwards do not wait behind a test process busy with hundreds of clients.
 */
import { TcpProxy } from './tcp-proxy.ts';

export type ProxyCommand = { op: 'start' } | { op: 'cut'; stopListening: boolean } | { op: 'hold' } | { op: 'release' };

export interface ProxyReply {
  id: number;
  ok: boolean;
  port?: number;
  error?: string;
}

const [host, port, listenPort] = process.argv.slice(2);
if (host === undefined || !Number.isInteger(Number(port)) || !Number.isInteger(Number(listenPort))) {
  throw new Error(`usage: tcp-proxy-child.ts <target host> <target port> <listen port>; got ${process.argv.slice(2).join(' ')}`);
}
const proxy = new TcpProxy({ host, port: Number(port) }, Number(listenPort));

async function handle(command: ProxyCommand): Promise<void> {
  switch (command.op) {
    case 'start':
      return proxy.start();
    case 'cut':
      return proxy.cut({ stopListening: command.stopListening });
    case 'hold':
      return proxy.hold();
    case 'release':
      return proxy.release();
  }
}

process.on('message', (message: { id: number; command: ProxyCommand }) => {
  handle(message.command).then(
    () => process.send?.({ id: message.id, ok: true, port: proxy.port } satisfies ProxyReply),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies ProxyReply),
  );
});
// The parent went away (or closed us): nothing is left to forward for.
process.on('disconnect', () => process.exit(0));
