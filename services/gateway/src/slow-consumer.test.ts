import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Socket as NetSocket } from 'node:net';
import { CLOSE_CODES } from '@chat/protocol';
import { createSession, memoryBackends, parseServerFrames, rawWebSocket, startMemoryGateway, token, type RawFrame, type StartedGateway } from './testing/index.ts';

const SLOW_CONSUMER_BYTES = 256 * 1024;
const CLOSE_OPCODE = 0x8;
const TEXT_OPCODE = 0x1;

let backends: ReturnType<typeof memoryBackends>;
let started: StartedGateway;

beforeEach(async () => {
  backends = memoryBackends();
  // A long close timeout, so the close frame is still queued behind the backlog when the reader wakes up.
  started = await startMemoryGateway(backends, { env: { SLOW_CONSUMER_BYTES: String(SLOW_CONSUMER_BYTES) }, tuning: { closeTimeoutMs: 20_000 } });
});

afterEach(async () => {
  await started.gateway.stop();
});

/** Reads everything the server sends until it stops sending or closes the TCP connection. */
function readToEnd(socket: NetSocket): Promise<RawFrame[]> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const finish = () => resolve(parseServerFrames(Buffer.concat(chunks)).frames);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // The close frame is the last thing the server writes.
      if (parseServerFrames(Buffer.concat(chunks)).frames.some((frame) => frame.opcode === CLOSE_OPCODE)) {
        socket.destroy();
        finish();
      }
    });
    socket.once('close', finish);
    socket.resume();
  });
}

it('closes a real socket whose reader stalls with 4408 once its send buffer passes SLOW_CONSUMER_BYTES, after the messages in order', async () => {
  const alice = randomUUID();
  const sessionId = await createSession(backends.store, [alice]);
  // Completes the handshake, takes the welcome, then stops reading: the kernel buffers fill, then the gateway's.
  const stalled = await rawWebSocket(started.gateway.address().port, `/ws/chat/${sessionId}?token=${await token({ userId: alice })}`);
  expect(started.gateway.connectionCount).toBe(1);

  // 16 MB: more than the loopback socket buffers on both sides can hold, plus the limit.
  const bus = backends.hub.bus();
  const body = 'x'.repeat(4000);
  const published = 4000;
  for (let seq = 1; seq <= published; seq++) {
    const message = { type: 'message', id: randomUUID(), sessionId, seq, userId: alice, body, metadata: {}, timestamp: new Date().toISOString() };
    await bus.publish(sessionId, JSON.stringify(message));
    if (seq % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  const frames = await readToEnd(stalled);
  const close = frames.find((frame) => frame.opcode === CLOSE_OPCODE);
  expect(close).toBeDefined();
  expect(close?.payload.readUInt16BE(0)).toBe(CLOSE_CODES.slowConsumer);
  expect(close?.payload.subarray(2).toString('utf8')).toBe('connection too slow');
  // What did arrive is a gapless run from seq 1, and the cut came well before the end.
  const seqs = frames.filter((frame) => frame.opcode === TEXT_OPCODE).map((frame) => (JSON.parse(frame.payload.toString('utf8')) as { seq: number }).seq);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  expect(seqs.length).toBeGreaterThan(0);
  expect(seqs.length).toBeLessThan(published);
  for (let waited = 0; started.gateway.connectionCount > 0 && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(started.gateway.connectionCount).toBe(0);
});
