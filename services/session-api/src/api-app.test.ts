import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Readiness } from '@chat/service-kit';
import request from 'supertest';
import { bearer, createFixture, type Fixture } from '../testing/api-fixture.ts';

const readiness = new Readiness();
let healthy = true;
readiness.add('dependency', () => (healthy ? Promise.resolve() : Promise.reject(new Error('down'))));

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture({ readiness });
});
afterAll(() => fx.close());

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('authentication', () => {
  const cases: [string, () => Promise<string | undefined>][] = [
    ['no Authorization header', () => Promise.resolve(undefined)],
    ['a header that is not a bearer token', () => Promise.resolve('Basic dXNlcjpwYXNz')],
    ['a token signed with another key', () => bearer(randomUUID(), { secret: 'another-secret-that-is-at-least-32-chars' })],
    ['an expired token', () => bearer(randomUUID(), { ttlSeconds: -60 })],
    [
      'an unsigned token (alg none)',
      () => Promise.resolve(`Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: randomUUID(), exp: Math.floor(Date.now() / 1000) + 600, scope: 'chat:admin' })}.`),
    ],
    ['a token whose subject is not a UUID', async () => (await bearer('not-a-uuid'))],
  ];

  it.each(cases)('refuses %s with 401 unauthorized on every endpoint', async (_name, header) => {
    const value = await header();
    const id = randomUUID();
    const calls = [
      request(fx.app).post('/api/chat/sessions').send({}),
      request(fx.app).get(`/api/chat/sessions/${id}`),
      request(fx.app).post(`/api/chat/sessions/${id}/members`).send({ userIds: [id] }),
      request(fx.app).post(`/api/chat/sessions/${id}/messages`).send({ body: 'x' }),
      request(fx.app).get(`/api/chat/history/${id}`),
      request(fx.app).delete(`/api/chat/sessions/${id}`),
    ];
    for (const call of calls) {
      const res = await (value === undefined ? call : call.set('Authorization', value));
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
  });
});

describe('routing and errors', () => {
  it('answers unknown routes with 404 route_not_found in the error shape', async () => {
    const plain = await request(fx.app).get('/nowhere').expect(404);
    expect(plain.body).toEqual({ error: { code: 'route_not_found', message: expect.any(String) } });
    const underApi = await request(fx.app).get('/api/chat/elsewhere').set('Authorization', await bearer(randomUUID())).expect(404);
    expect(underApi.body.error.code).toBe('route_not_found');
    await request(fx.app).put(`/api/chat/sessions/${randomUUID()}`).set('Authorization', await bearer(randomUUID())).expect(404);
  });

  it('answers a body that is not JSON with 400', async () => {
    const res = await request(fx.app).post('/api/chat/sessions').set('Authorization', await bearer(randomUUID())).set('Content-Type', 'text/plain').send('hello').expect(400);
    expect(res.body.error.code).toBe('invalid_input');
  });

  it('never writes tokens or message bodies to the log', async () => {
    const owner = randomUUID();
    const auth = await bearer(owner);
    const created = await request(fx.app).post('/api/chat/sessions').set('Authorization', auth).send({}).expect(201);
    const secretText = `very private words ${randomUUID()}`;
    await request(fx.app).post(`/api/chat/sessions/${created.body.id as string}/messages?token=${auth.slice(7)}`).set('Authorization', auth).send({ body: secretText }).expect(201);
    await request(fx.app).get(`/api/chat/history/${created.body.id as string}`).set('Authorization', auth).expect(200);
    const log = fx.logLines.join('');
    expect(log).toContain('"status":201');
    expect(log).not.toContain(auth.slice(7));
    expect(log).not.toContain(secretText);
  });
});

describe('cross-origin calls', () => {
  it('answers a preflight from an allowed origin, and leaves other origins without CORS headers', async () => {
    const allowed = await request(fx.app)
      .options(`/api/chat/history/${randomUUID()}`)
      .set('Origin', 'http://localhost:5173')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization')
      .expect(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(allowed.headers['access-control-allow-headers']).toMatch(/Authorization/);
    const refused = await request(fx.app).get('/healthz').set('Origin', 'https://evil.example').expect(200);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('health', () => {
  it('is live on /healthz and ready on /readyz while its dependencies answer', async () => {
    await request(fx.app).get('/healthz').expect(200, { status: 'ok' });
    const ready = await request(fx.app).get('/readyz').expect(200);
    expect(ready.body).toEqual({ ready: true, checks: { dependency: { ok: true } } });
  });

  it('reports not ready when a dependency fails, and again once it answers', async () => {
    healthy = false;
    try {
      const res = await request(fx.app).get('/readyz').expect(503);
      expect(res.body.checks.dependency).toEqual({ ok: false, error: 'down' });
    } finally {
      healthy = true;
    }
    await request(fx.app).get('/readyz').expect(200);
  });

  it('serves a metrics endpoint', async () => {
    const res = await request(fx.app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
  });
});

// Draining is one-way: it drains a fixture of its own, so the tests sharing the other one never see it.
describe('health while draining', () => {
  const draining = new Readiness();
  draining.add('dependency', () => Promise.resolve());
  let drained: Fixture;
  beforeAll(async () => {
    drained = await createFixture({ readiness: draining });
  });
  afterAll(() => drained.close());

  it('reports not ready once draining starts', async () => {
    await request(drained.app).get('/readyz').expect(200);
    draining.drain();
    const res = await request(drained.app).get('/readyz').expect(503);
    expect(res.body).toEqual({ ready: false, checks: { dependency: { ok: true }, draining: { ok: false } } });
  });
});
