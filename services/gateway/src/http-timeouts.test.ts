import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { memoryBackends, startMemoryGateway, type StartedGateway } from './testing/index.ts';

let started: StartedGateway;

beforeEach(async () => {
  started = await startMemoryGateway(memoryBackends(), { env: { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' } });
});

afterEach(async () => {
  await started.gateway.stop();
});

/** Opens a raw TCP connection, sends the first part of an upgrade's headers and never the rest. */
function slowHeaders(url: string): Promise<{ answer: string; ms: number }> {
  const { hostname, port } = new URL(url);
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write('GET /ws/chat/x HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n'));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve({ answer, ms: performance.now() - began }));
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      reject(new Error('the gateway kept a client that never finished its headers for 10 s'));
    }, 10_000).unref();
  });
}

it('answers a client that never finishes its headers with 408 within the headers timeout, then closes (finding 8)', async () => {
  const { answer, ms } = await slowHeaders(started.url('/'));
  expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  // The timeout (1 s) plus at most one check interval (1 s) and some slack for a busy machine.
  expect(ms).toBeLessThan(4_000);
});
