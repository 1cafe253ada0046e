import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { bearer, createFixture, type Fixture } from './api-fixture.ts';

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
});
afterAll(() => fx.close());

const errorBody = (code: string) => ({ error: { code, message: expect.any(String) } });

describe('paths that do not decode', () => {
  const malformed = [
    '/api/chat/sessions/%',
    '/api/chat/sessions/%zz',
    '/api/chat/sessions/%E0%A4%A',
    '/api/chat/sessions/%ff%fe/members',
    '/api/chat/sessions/%/messages',
    '/api/chat/history/%c0%af',
  ];

  it.each(malformed)('answers %s with 400 invalid_input for every method, never 500', async (path) => {
    const auth = await bearer(randomUUID());
    for (const method of ['get', 'post', 'delete'] as const) {
      const res = await request(fx.app)[method](path).set('Authorization', auth);
      expect({ method, status: res.status, body: res.body as unknown }).toEqual({ method, status: 400, body: errorBody('invalid_input') });
    }
  });

  it('answers a path under /api that matches no route with 404 even when it does not decode', async () => {
    const res = await request(fx.app).get('/api/%/x').set('Authorization', await bearer(randomUUID()));
    expect(res.status).toBe(404);
    expect(res.body).toEqual(errorBody('route_not_found'));
  });

  it('still asks for a token first on a malformed path', async () => {
    const res = await request(fx.app).get('/api/chat/sessions/%');
    expect(res.status).toBe(401);
    expect(res.body).toEqual(errorBody('unauthorized'));
  });
});

describe('bodies the parser refuses', () => {
  it('answers a charset other than UTF-8 with 400 invalid_input', async () => {
    const res = await request(fx.app).post('/api/chat/sessions').set('Authorization', await bearer(randomUUID())).set('Content-Type', 'application/json; charset=koi8-r').send('{}');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorBody('invalid_input'));
  });

  it('answers an unknown content encoding with 400 invalid_input', async () => {
    const res = await request(fx.app).post('/api/chat/sessions').set('Authorization', await bearer(randomUUID())).set('Content-Type', 'application/json').set('Content-Encoding', 'x-unknown').send('{}');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorBody('invalid_input'));
  });

  it('answers a gzip body that is not gzip with 400 invalid_input', async () => {
    const res = await request(fx.app).post('/api/chat/sessions').set('Authorization', await bearer(randomUUID())).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('not gzip at all');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorBody('invalid_input'));
  });

  it('answers a gzip body that inflates past the limit with 413 too_large', async () => {
    const inflated = Buffer.from(JSON.stringify({ title: 'x'.repeat(4 * 1024 * 1024) }));
    const res = await request(fx.app)
      .post('/api/chat/sessions')
      .set('Authorization', await bearer(randomUUID()))
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      // Sent as the bytes given, not serialised again.
      .serialize((body: Buffer) => body)
      .send(gzipSync(inflated));
    expect(res.status).toBe(413);
    expect(res.body).toEqual(errorBody('too_large'));
  });
});
