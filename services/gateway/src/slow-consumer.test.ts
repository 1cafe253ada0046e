import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type Socket as NetSocket } from 'node:net';
import { createSession, memoryBackends, startMemoryGateway, token, type StartedGateway } from './testing/index.ts';

let backends: ReturnType<typeof memoryBackends>;
let started: StartedGateway;

beforeEach(async () => {
  backends = memoryBackends();
  started = await startMemoryGateway(backends, { env: { SLOW_CONSUMER_BYTES: String(256 * 1024) } });
});

afterEach(async () => {
  await started.gateway.stop();
});

/** A WebSocket client that completes the upgrade, then stops reading: a peer that cannot keep up. */
async function stalledClient(path: string): Promise<NetSocket> {
  const port = started.gateway.address().port;
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!seen.includes('"welcome"')) return;
      socket.off('data', onData);
      socket.pause();
      resolve();
    };
    socket.on('data', onData);
  });
  return socket;
}

it('drops a socket whose send buffer passes SLOW_CONSUMER_BYTES', async () => {
  const alice = randomUUID();
  const sessionId = await createSession(backends.store, [alice]);
  const stalled = await stalledClient(`/ws/chat/${sessionId}?token=${await token({ userId: alice })}`);
  const gone = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
  expect(started.gateway.connectionCount).toBe(1);

  const bus = backends.hub.bus();
  const body = 'x'.repeat(4000);
  for (let seq = 1; seq <= 4000 && started.gateway.connectionCount > 0; seq++) {
    const message = { type: 'message', id: randomUUID(), sessionId, seq, userId: alice, body, metadata: {}, timestamp: new Date().toISOString() };
    await bus.publish(sessionId, JSON.stringify(message));
    if (seq % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  stalled.resume();
  await gone;
  for (let waited = 0; started.gateway.connectionCount > 0 && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(started.gateway.connectionCount).toBe(0);
});
