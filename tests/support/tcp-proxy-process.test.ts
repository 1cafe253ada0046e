import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TcpProxyProcess } from './tcp-proxy-process.ts';

/** Sends one line through a new connection and resolves with what comes back, or the error. */
async function roundTrip(port: number, line: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(line);
  const [data] = (await once(socket, 'data')) as [Buffer];
  socket.destroy();
  return data.toString();
}

describe('TcpProxyProcess', () => {
  let echo: Server;
  let proxy: TcpProxyProcess;
  const open = new Set<Socket>();

  beforeAll(async () => {
    echo = createServer((socket) => {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    proxy = new TcpProxyProcess({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
    await proxy.start();
  });

  afterAll(async () => {
    await proxy.stop();
    for (const socket of open) socket.destroy();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  it('forwards through its child process, on the port it reports', async () => {
    expect(proxy.port).toBeGreaterThan(0);
    await expect(roundTrip(proxy.port, 'hello')).resolves.toBe('hello');
  });

  it('drops open connections and refuses new ones when cut, and listens on the same port again once started', async () => {
    const port = proxy.port;
    const held = connect(port, '127.0.0.1');
    await once(held, 'connect');
    const closed = once(held, 'close');
    await proxy.cut({ stopListening: true });
    await closed;
    await expect(roundTrip(port, 'refused')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.start();
    expect(proxy.port).toBe(port);
    await expect(roundTrip(port, 'back')).resolves.toBe('back');
  });

  it('ends its child on stop, after which a start brings up a fresh one', async () => {
    const port = proxy.port;
    await proxy.stop();
    await expect(roundTrip(port, 'gone')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.start();
    await expect(roundTrip(port, 'again')).resolves.toBe('again');
  });
});
