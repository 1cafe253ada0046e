import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Readiness } from '@chat/service-kit';
import { createLogger } from '@chat/telemetry';
import { ApiServer } from './api-server.ts';

let server: ApiServer;
beforeAll(async () => {
  server = new ApiServer({
    handler: (_req, res) => res.end('handled'),
    host: '127.0.0.1',
    port: 0,
    readiness: new Readiness(),
    graceMs: 100,
    logger: createLogger('session-api', 'silent'),
    headersTimeoutMs: 500,
    requestTimeoutMs: 1_000,
  });
  await server.start();
});
afterAll(() => server.stop());

/** Writes raw bytes and collects everything until the server closes the connection. */
function exchange(chunks: readonly string[], pauseMs = 0): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(server.port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('close', () => resolve({ text, ms: Date.now() - started }));
    socket.on('error', reject);
    socket.on('connect', () => {
      const [first, ...rest] = chunks;
      socket.write(first ?? '', 'latin1');
      if (rest.length > 0) setTimeout(() => socket.write(rest.join(''), 'latin1'), pauseMs);
    });
  });
}

function parsed(text: string): { status: number; body: unknown } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body) as unknown };
}

describe('requests the HTTP parser refuses', () => {
  it('answers an unknown method with 400 and the contract error body', async () => {
    const { text } = await exchange(['BREW /api/chat/sessions HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(parsed(text)).toEqual({ status: 400, body: { error: { code: 'invalid_input', message: expect.any(String) } } });
  });

  it('answers a malformed header line with 400 and the contract error body', async () => {
    const { text } = await exchange(['GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n']);
    expect(parsed(text)).toEqual({ status: 400, body: { error: { code: 'invalid_input', message: expect.any(String) } } });
  });

  it('answers headers past the size limit with 431 too_large', async () => {
    const { text } = await exchange([`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
    expect(parsed(text)).toEqual({ status: 431, body: { error: { code: 'too_large', message: expect.any(String) } } });
  });

  it('answers a client that never finishes its headers with 408 within the headers timeout, not a minute later', async () => {
    const { text, ms } = await exchange(['GET / HTTP/1.1\r\nHost: x\r\n']);
    expect(parsed(text)).toEqual({ status: 408, body: { error: { code: 'invalid_input', message: expect.any(String) } } });
    expect(ms).toBeLessThan(5_000);
  });
});

describe('a HEAD request the parser refuses', () => {
  it('gets the status and no body, so the client can read the answer', async () => {
    const { text } = await exchange(['HEAD /api/chat/sessions/!\u00a9\u00ed:\u00c5/messages?\u00df\u00b0U@\u00fc\u00bd\u00ff\u00ee HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text.split('\r\n\r\n')[1]).toBe('');
  });
});
