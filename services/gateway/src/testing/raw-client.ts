import { randomBytes } from 'node:crypto';
import { connect, type Socket as NetSocket } from 'node:net';

/** A frame as the server sent it (server frames are never masked). */
export interface RawFrame {
  opcode: number;
  payload: Buffer;
  /** Offset just past this frame in the bytes it was parsed from. */
  end: number;
}

/** Splits bytes from the server into whole frames; `rest` is the start of a frame not complete yet. */
export function parseServerFrames(bytes: Buffer): { frames: RawFrame[]; rest: Buffer } {
  const frames: RawFrame[] = [];
  let at = 0;
  for (;;) {
    if (bytes.length - at < 2) break;
    const opcode = bytes.readUInt8(at) & 0x0f;
    let length = bytes.readUInt8(at + 1) & 0x7f;
    let header = 2;
    if (length === 126) {
      if (bytes.length - at < 4) break;
      length = bytes.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (bytes.length - at < 10) break;
      length = Number(bytes.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (bytes.length - at < header + length) break;
    at += header + length;
    frames.push({ opcode, payload: bytes.subarray(at - length, at), end: at });
  }
  return { frames, rest: bytes.subarray(at) };
}

/**
 * A bare TCP peer that performs the WebSocket upgrade by hand and then does nothing a WebSocket
 * library would do for it: it answers no ping, and stops reading once the first frame is in.
 * Bytes that came with that frame are put back, so the socket's data starts at the next frame.
 */
export async function rawWebSocket(port: number, path: string): Promise<NetSocket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const headerEnd = seen.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const body = seen.subarray(headerEnd + 4);
      const { frames } = parseServerFrames(body);
      const first = frames.find((frame) => /"(welcome|presence)"/.test(frame.payload.toString('utf8')));
      if (first === undefined) return;
      socket.off('data', onData);
      socket.pause();
      // Whatever came after the first frame goes back, so reading resumes at a frame boundary.
      if (first.end < body.length) socket.unshift(body.subarray(first.end));
      resolve();
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed before the first frame: ${seen.subarray(0, 200).toString('latin1')}`)));
  });
  return socket;
}
