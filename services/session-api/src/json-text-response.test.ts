import express from 'express';
import request from 'supertest';
import { sendJsonText } from './json-text-response.ts';

/** The same value through res.json and through sendJsonText, on the same path shape. */
function app(): express.Express {
  const value = { messages: [{ seq: 1, message: 'h\u00e9llo \u{1F600} <b>&</b>', metadata: { a: null } }], hasMore: true, reads: [] };
  const server = express();
  server.disable('x-powered-by');
  server.set('etag', false);
  server.get('/json', (_req, res) => {
    res.status(200).json(value);
  });
  server.get('/text', (req, res) => {
    sendJsonText(req, res, JSON.stringify(value));
  });
  return server;
}

function comparable(res: request.Response): { status: number; headers: Record<string, unknown>; text: string } {
  const { date: _date, ...headers } = res.headers as Record<string, unknown>;
  return { status: res.status, headers, text: res.text };
}

describe('sendJsonText', () => {
  it('answers a GET byte for byte as res.json does, headers included', async () => {
    const server = app();
    const viaJson = await request(server).get('/json');
    const viaText = await request(server).get('/text');
    expect(viaText.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(viaText.headers['content-length'])).toBe(Buffer.byteLength(viaText.text, 'utf8'));
    expect(viaText.text.length).toBeGreaterThan(0);
    expect(comparable(viaText)).toEqual(comparable(viaJson));
  });

  it('answers HEAD with the headers of the GET and no body, as res.json does', async () => {
    const server = app();
    const viaJson = await request(server).head('/json');
    const viaText = await request(server).head('/text');
    expect(viaText.text).toBeUndefined();
    expect(comparable(viaText)).toEqual(comparable(viaJson));
  });

  it('answers a fresh conditional GET as res.json does', async () => {
    const server = app();
    const viaJson = await request(server).get('/json').set('If-None-Match', '*');
    const viaText = await request(server).get('/text').set('If-None-Match', '*');
    expect(comparable(viaText)).toEqual(comparable(viaJson));
  });
});
