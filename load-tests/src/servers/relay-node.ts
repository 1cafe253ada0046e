/**
 * The floor: a bare `ws` + `ioredis` relay, the least a multi-node chat can do. It verifies the
 * token on connect, joins the session's room, stamps an id, seq and timestamp, publishes each
 * message to Redis once and writes the published frame as it is to its own sockets in that room,
 * then acknowledges the sender. It speaks the chat gateway's frames (welcome, message, ack), so
 * the same load-generator client drives it. No durable copy, no membership, no limits.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env['RELAY_PORT'] ?? 0);
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const secret = new TextEncoder().encode(process.env['JWT_SECRET'] ?? '');
const channelPrefix = process.env['RELAY_CHANNEL_PREFIX'] ?? 'relay';
const PATH = /^\/ws\/chat\/([0-9a-f-]{36})$/;

const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const rooms = new Map<string, Set<WebSocket>>();
const subscriptions = new Map<string, Promise<unknown>>();
let seq = 0;

// The published bytes are the frame: encoded once by the sender's node, written as they are by every node.
sub.on('messageBuffer', (channel: Buffer, frame: Buffer) => {
  const room = rooms.get(channel.toString().slice(channelPrefix.length + 1));
  if (room) for (const socket of room) socket.send(frame, { binary: false });
});

const http = createServer((request, response) => {
  const ready = pub.status === 'ready' && sub.status === 'ready';
  if (request.url === '/readyz' || request.url === '/healthz') response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(`{"ok":${ready}}`);
  else response.writeHead(404).end();
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

http.on('upgrade', (request, socket, head) => {
  const url = new URL(request.url ?? '/', 'http://relay');
  const sessionId = PATH.exec(url.pathname)?.[1];
  const token = url.searchParams.get('token');
  if (sessionId === undefined || token === null) {
    socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    return;
  }
  jwtVerify(token, secret, { algorithms: ['HS256'] }).then(
    async ({ payload }) => {
      await join(sessionId);
      wss.handleUpgrade(request, socket, head, (ws) => attach(ws, sessionId, payload.sub ?? ''));
    },
    () => socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n'),
  );
});

/** Subscribes the node to a room's channel before its first member is welcomed, so it misses nothing. */
function join(sessionId: string): Promise<unknown> {
  let subscribed = subscriptions.get(sessionId);
  if (!subscribed) {
    rooms.set(sessionId, new Set());
    subscribed = sub.subscribe(`${channelPrefix}:${sessionId}`);
    subscriptions.set(sessionId, subscribed);
  }
  return subscribed;
}

interface SendFrame {
  type?: unknown;
  clientMsgId?: unknown;
  body?: unknown;
}

function attach(ws: WebSocket, sessionId: string, userId: string): void {
  const room = rooms.get(sessionId);
  room?.add(ws);
  ws.on('close', () => room?.delete(ws));
  ws.on('message', (data: Buffer) => {
    let frame: SendFrame;
    try {
      frame = JSON.parse(data.toString('utf8')) as SendFrame;
    } catch {
      ws.send('{"type":"error","code":"invalid_frame"}');
      return;
    }
    const { clientMsgId, body } = frame;
    if (frame.type !== 'send' || typeof clientMsgId !== 'string' || typeof body !== 'string') {
      ws.send(JSON.stringify({ type: 'error', code: 'invalid_frame', clientMsgId: typeof clientMsgId === 'string' ? clientMsgId : undefined }));
      return;
    }
    const message = { type: 'message', id: randomUUID(), sessionId, seq: ++seq, userId, body, metadata: {}, timestamp: new Date().toISOString(), clientMsgId };
    pub.publish(`${channelPrefix}:${sessionId}`, JSON.stringify(message)).then(
      () => ws.send(JSON.stringify({ type: 'ack', clientMsgId, id: message.id, seq: message.seq, timestamp: message.timestamp })),
      () => ws.send(JSON.stringify({ type: 'error', code: 'unavailable', clientMsgId })),
    );
  });
  ws.send(JSON.stringify({ type: 'welcome', sessionId, userId }));
}

http.listen(port, '127.0.0.1');

const shutdown = () => {
  wss.close();
  http.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
