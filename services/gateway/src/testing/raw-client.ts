import { randomBytes } from 'node:crypto';
import { connect, type Socket as NetSocket } from 'node:net';

/**
 * A bare TCP peer that performs the WebSocket upgrade by hand and then does nothing a WebSocket
 * library would do for it: it answers no ping, and stops reading once the first frame is in.
 */
export async function rawWebSocket(port: number, path: string): Promise<NetSocket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!/"(welcome|presence)"/.test(seen)) return;
      socket.off('data', onData);
      socket.pause();
      resolve();
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed before the first frame: ${seen.slice(0, 200)}`)));
  });
  return socket;
}
