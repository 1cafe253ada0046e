import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { bearer, createFixture, type Fixture } from '../testing/api-fixture.ts';

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
    const server = fx.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/api/chat/sessions`, {
        method: 'POST',
        headers: { authorization: await bearer(randomUUID()), 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(inflated),
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual(errorBody('too_large'));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** An object nested `depth` levels deep, as text: `{"a":{"a":...1...}}`. */
function nestedText(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

async function postRaw(path: string, auth: string, text: string) {
  return request(fx.app).post(path).set('Authorization', auth).set('Content-Type', 'application/json').send(text);
}

describe('bodies bounded before any recursive work', () => {
  it('answers metadata nested thousands of levels deep (about 12 KB) with 400 invalid_input on every body, and reserves nothing', async () => {
    const owner = randomUUID();
    const auth = await bearer(owner);
    const sessionId = ((await request(fx.app).post('/api/chat/sessions').set('Authorization', auth).send({}).expect(201)).body as { id: string }).id;
    const deep = nestedText(2400);
    expect(deep.length).toBeGreaterThan(12_000);
    expect(deep.length).toBeLessThan(16 * 1024);
    const bodies: [string, string][] = [
      [`/api/chat/sessions/${sessionId}/messages`, `{"body":"hi","metadata":${deep}}`],
      ['/api/chat/sessions', `{"title":"t","metadata":${deep}}`],
      [`/api/chat/sessions/${sessionId}/members`, `{"userIds":${'['.repeat(3000)}${']'.repeat(3000)}}`],
    ];
    for (const [path, text] of bodies) {
      const res = await postRaw(path, auth, text);
      expect({ path, status: res.status, body: res.body as unknown }).toEqual({ path, status: 400, body: errorBody('invalid_input') });
      expect((res.body as { error: { message: string } }).error.message).toMatch(/nested deeper than/);
    }
    expect(fx.queue.published.filter((m) => m.sessionId === sessionId)).toEqual([]);
    const next = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: 'first' }).expect(201);
    expect(next.body.seq).toBe(1);
  });

  it('answers a body with more keys and elements than the bound with 400 invalid_input', async () => {
    const auth = await bearer(randomUUID());
    const wide = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i]));
    const res = await request(fx.app).post('/api/chat/sessions').set('Authorization', auth).send({ metadata: wide });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorBody('invalid_input'));
    expect((res.body as { error: { message: string } }).error.message).toMatch(/more than \d+ keys and elements/);
  });

  it('checks the size in bytes before the nesting: a deep body over the byte limit is 413', async () => {
    const res = await postRaw('/api/chat/sessions', await bearer(randomUUID()), `{"metadata":${nestedText(200_000)}}`);
    expect(res.status).toBe(413);
    expect(res.body).toEqual(errorBody('too_large'));
  });

  it('bounds the whole body at 32 levels, before the schema: metadata 40 deep and a few hundred bytes is 400', async () => {
    const owner = randomUUID();
    const auth = await bearer(owner);
    const sessionId = ((await request(fx.app).post('/api/chat/sessions').set('Authorization', auth).send({}).expect(201)).body as { id: string }).id;
    const res = await postRaw(`/api/chat/sessions/${sessionId}/messages`, auth, `{"body":"hi","metadata":${nestedText(40)}}`);
    expect(res.status).toBe(400);
    expect((res.body as { error: { message: string } }).error.message).toMatch(/nested deeper than 32 levels/);
    expect(fx.queue.published.filter((m) => m.sessionId === sessionId)).toEqual([]);
  });

  it('still takes metadata nested a few levels, within its byte limit', async () => {
    const owner = randomUUID();
    const auth = await bearer(owner);
    const sessionId = ((await request(fx.app).post('/api/chat/sessions').set('Authorization', auth).send({}).expect(201)).body as { id: string }).id;
    const res = await postRaw(`/api/chat/sessions/${sessionId}/messages`, auth, `{"body":"hi","metadata":${nestedText(20)}}`);
    expect(res.status).toBe(201);
  });
});

describe('text the store cannot keep', () => {
  const unstorable: [string, Record<string, unknown>][] = [
    ['U+0000 in the body', { body: 'a\u0000b' }],
    ['U+0000 in the clientMsgId', { body: 'ok', clientMsgId: 'c\u0000' }],
    ['U+0000 in a metadata value', { body: 'ok', metadata: { k: 'v\u0000' } }],
    ['U+0000 in a metadata key', { body: 'ok', metadata: { ['k\u0000']: 1 } }],
    ['an unpaired surrogate in the body', { body: 'x\ud800y' }],
    ['an unpaired surrogate deep in metadata', { body: 'ok', metadata: { a: [{ b: '\udc00' }] } }],
  ];

  it.each(unstorable)('refuses a posted message with %s with 400 invalid_input, before a seq is reserved', async (_name, body) => {
    const owner = randomUUID();
    const auth = await bearer(owner);
    const sessionId = ((await request(fx.app).post('/api/chat/sessions').set('Authorization', auth).send({}).expect(201)).body as { id: string }).id;
    const res = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorBody('invalid_input'));
    expect(fx.queue.published.filter((m) => m.sessionId === sessionId)).toEqual([]);
    const next = await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: 'fine' }).expect(201);
    expect(next.body.seq).toBe(1);
  });

  it.each([
    ['U+0000 in the title', { title: 'a\u0000' }],
    ['U+0000 in a metadata key', { metadata: { ['\u0000']: 'x' } }],
    ['an unpaired surrogate in the title', { title: '\udbff' }],
  ])('refuses a session with %s with 400 invalid_input, and creates nothing', async (_name, body) => {
    const create = fx.store.createSession.bind(fx.store);
    let created = 0;
    fx.store.createSession = (session) => {
      created++;
      return create(session);
    };
    try {
      const res = await request(fx.app).post('/api/chat/sessions').set('Authorization', await bearer(randomUUID())).send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('invalid_input'));
      expect(created).toBe(0);
    } finally {
      fx.store.createSession = create;
    }
  });
});
