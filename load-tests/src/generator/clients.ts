import WebSocket from 'ws';
import { io, type Socket } from 'socket.io-client';
import type { SystemKind } from './protocol.ts';

/** What a load-generator needs from one connected member, whichever system it talks to. */
export interface BenchClient {
  readonly sessionId: string;
  readonly target: string;
  send(clientMsgId: string, body: string): void;
  close(): void;
}

export interface ClientHandlers {
  onMessage(sessionId: string, seq: number, body: string): void;
  onAck(clientMsgId: string): void;
  onSendError(code: string, clientMsgId: string | undefined): void;
  onClosed(): void;
}

export interface ConnectOptions {
  system: SystemKind;
  target: string;
  sessionId: string;
  token: string;
  localAddress: string;
  timeoutMs: number;
  handlers: ClientHandlers;
}

export class ConnectError extends Error {
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`connection failed: ${reason}`, options);
    this.name = 'ConnectError';
    this.reason = reason;
  }
}

export function connectClient(options: ConnectOptions): Promise<BenchClient> {
  // The relay speaks the gateway's frames on the gateway's path.
  return options.system === 'socketio' ? connectSocketIo(options) : connectChat(options);
}

interface ServerFrame {
  type?: string;
  seq?: number;
  body?: string;
  clientMsgId?: string;
  code?: string;
}

function connectChat(options: ConnectOptions): Promise<BenchClient> {
  const url = `${options.target}/ws/chat/${options.sessionId}?token=${encodeURIComponent(options.token)}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress: options.localAddress, perMessageDeflate: false, handshakeTimeout: options.timeoutMs });
    let welcomed = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new ConnectError('timeout'));
    }, options.timeoutMs);
    const client: BenchClient = {
      sessionId: options.sessionId,
      target: options.target,
      send: (clientMsgId, body) => ws.send(JSON.stringify({ type: 'send', clientMsgId, body })),
      close: () => ws.terminate(),
    };
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as ServerFrame;
      switch (frame.type ?? '') {
        case 'welcome':
          welcomed = true;
          clearTimeout(timer);
          resolve(client);
          return;
        case 'message':
          options.handlers.onMessage(options.sessionId, frame.seq ?? 0, frame.body ?? '');
          return;
        case 'ack':
          options.handlers.onAck(frame.clientMsgId ?? '');
          return;
        case 'error':
          options.handlers.onSendError(frame.code ?? 'error', frame.clientMsgId);
          return;
        default:
          return;
      }
    });
    ws.on('error', (error: NodeJS.ErrnoException) => {
      if (welcomed) return;
      clearTimeout(timer);
      reject(new ConnectError(error.code ?? error.message, { cause: error }));
    });
    ws.on('close', (code: number) => {
      clearTimeout(timer);
      if (welcomed) options.handlers.onClosed();
      else reject(new ConnectError(`closed ${code}`));
    });
  });
}

interface SocketIoAck {
  clientMsgId?: string;
  error?: string;
}

interface SocketIoMessage {
  seq?: number;
  body?: string;
}

function connectSocketIo(options: ConnectOptions): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const socket: Socket = io(options.target, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: options.timeoutMs,
      auth: { token: options.token },
      query: { sessionId: options.sessionId },
      // Passed through to the ws client underneath (Node only).
      localAddress: options.localAddress,
    } as Parameters<typeof io>[1]);
    let connected = false;
    const timer = setTimeout(() => {
      socket.disconnect();
      reject(new ConnectError('timeout'));
    }, options.timeoutMs);
    socket.on('connect', () => {
      connected = true;
      clearTimeout(timer);
      resolve({
        sessionId: options.sessionId,
        target: options.target,
        send: (clientMsgId, body) => {
          socket.emit('send', { type: 'send', clientMsgId, body }, (ack: SocketIoAck) => {
            if (ack.error === undefined) options.handlers.onAck(ack.clientMsgId ?? clientMsgId);
            else options.handlers.onSendError(ack.error, clientMsgId);
          });
        },
        close: () => socket.disconnect(),
      });
    });
    socket.on('message', (message: SocketIoMessage) => {
      options.handlers.onMessage(options.sessionId, message.seq ?? 0, message.body ?? '');
    });
    socket.on('connect_error', (error: Error) => {
      clearTimeout(timer);
      if (!connected) reject(new ConnectError(error.message, { cause: error }));
    });
    socket.on('disconnect', () => {
      if (connected) options.handlers.onClosed();
    });
  });
}
