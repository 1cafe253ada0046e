/**
 * The baseline: a chat node as Socket.IO's documentation sets one up for several
 * nodes (the Redis adapter, WebSocket transport), doing the same per-message work a
 * plain chat does: verify the token on connect, join the session's room, stamp an id,
 * seq and timestamp on each message, broadcast it to the room on every node and
 * acknowledge the sender. It keeps no durable copy, which favours it.
 */
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { jwtVerify } from 'jose';

const port = Number(process.env['SIO_PORT'] ?? 0);
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const secret = new TextEncoder().encode(process.env['JWT_SECRET'] ?? '');
const keyPrefix = process.env['SIO_KEY_PREFIX'] ?? 'socket.io';

interface SendPayload {
  clientMsgId?: unknown;
  body?: unknown;
  metadata?: unknown;
}

const http = createServer((request, response) => {
  if (request.url === '/readyz' || request.url === '/healthz') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    return;
  }
  // Socket.IO answers its own path; anything else is not ours.
  if (!request.url?.startsWith('/socket.io/')) response.writeHead(404).end();
});

const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const io = new Server(http, { transports: ['websocket'], adapter: createAdapter(pub, sub, { key: keyPrefix }) });
let seq = 0;

io.use((socket, next) => {
  const token = (socket.handshake.auth as { token?: unknown }).token;
  if (typeof token !== 'string') {
    next(new Error('unauthorized'));
    return;
  }
  jwtVerify(token, secret, { algorithms: ['HS256'] }).then(
    ({ payload }) => {
      socket.data = { userId: payload.sub ?? '' };
      next();
    },
    () => next(new Error('unauthorized')),
  );
});

io.on('connection', (socket) => {
  const sessionId = String(socket.handshake.query['sessionId'] ?? '');
  const userId = (socket.data as { userId: string }).userId;
  void socket.join(sessionId);
  socket.on('send', (payload: SendPayload, ack?: (answer: unknown) => void) => {
    if (typeof payload.body !== 'string' || typeof payload.clientMsgId !== 'string') {
      ack?.({ error: 'invalid_frame' });
      return;
    }
    const message = {
      type: 'message',
      id: randomUUID(),
      sessionId,
      seq: ++seq,
      userId,
      body: payload.body,
      metadata: typeof payload.metadata === 'object' && payload.metadata !== null ? payload.metadata : {},
      timestamp: new Date().toISOString(),
      clientMsgId: payload.clientMsgId,
    };
    io.to(sessionId).emit('message', message);
    ack?.({ type: 'ack', clientMsgId: message.clientMsgId, id: message.id, seq: message.seq, timestamp: message.timestamp });
  });
});

http.listen(port, '127.0.0.1');

const shutdown = () => {
  void io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
