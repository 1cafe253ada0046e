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

/** Connects, sends nothing for `silentMs`, then a whole upgrade request at once; resolves with the answer's status line. */
function lateUpgrade(url: string, silentMs: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      setTimeout(() => {
        if (!socket.destroyed) socket.write('GET /ws/chat/x HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      }, silentMs);
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (!answer.includes('\r\n')) return;
      socket.destroy();
      resolve(answer.split('\r\n')[0] ?? '');
    });
    socket.on('close', () => resolve(answer === '' ? 'closed without an answer' : (answer.split('\r\n')[0] ?? '')));
    socket.on('error', reject);
  });
}

it('upgrades a client that connected and sent its whole request only after the headers timeout', async () => {
  // Headers 1 s, whole request 5 s: a client busy for 2.5 s after connecting (past the headers timeout and a check of it), then sending at once.
  const patient = await startMemoryGateway(memoryBackends(), { env: { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '5000' } });
  try {
    await expect(lateUpgrade(patient.url('/'), 2_500)).resolves.toMatch(/^HTTP\/1\.1 101 /);
  } finally {
    await patient.gateway.stop();
  }
});

it('answers a client that sends nothing at all with 408 by the whole-request timeout', async () => {
  const began = performance.now();
  const { hostname, port } = new URL(started.url('/'));
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  expect(performance.now() - began).toBeLessThan(5_000);
});
