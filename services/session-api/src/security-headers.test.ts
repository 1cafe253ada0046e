import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createFixture, type Fixture } from '../testing/api-fixture.ts';
import { API_SECURITY_HEADERS } from '@chat/service-kit';

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
});
afterAll(() => fx.close());

describe('security headers on every answer of the API', () => {
  const answers: [string, () => request.Test][] = [
    ['a probe', () => request(fx.app).get('/healthz')],
    ['the OpenAPI document', () => request(fx.app).get('/openapi.json')],
    ['a refusal before authentication', () => request(fx.app).get('/api/chat/sessions/not-a-session')],
    ['an unknown route', () => request(fx.app).get('/nowhere')],
    ['a CORS preflight', () => request(fx.app).options('/api/chat/sessions').set('Origin', 'http://elsewhere.example').set('Access-Control-Request-Method', 'POST')],
  ];
  it.each(answers)('%s carries the CSP, nosniff, no-referrer and no framing', async (_what, send) => {
    const res = await send();
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) expect(res.headers[name.toLowerCase()]).toBe(value);
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });
});
