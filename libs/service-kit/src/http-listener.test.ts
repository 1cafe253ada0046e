import { afterEach, describe, expect, it } from '@jest/globals';
import { get as httpGet } from 'node:http';
import { healthHandler } from './health-routes.ts';
import { HttpListener } from './http-listener.ts';
import { Readiness } from './readiness.ts';

const open: HttpListener[] = [];

function listener(handler = healthHandler({ readiness: new Readiness() }), port = 0): HttpListener {
  const made = new HttpListener({ name: 'test-http', host: '127.0.0.1', port, handler });
  open.push(made);
  return made;
}

/** A request on a connection of its own (no keep-alive pool to outlive the test). */
function getPort(port: number, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: res.headers['content-type']?.includes('json') ? JSON.parse(text) : text }));
    }).on('error', reject);
  });
}

const get = (server: HttpListener, path: string) => getPort(server.port, path);

afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

describe('HttpListener with the health handler', () => {
  it('serves /healthz, and /readyz from the readiness checks', async () => {
    let postgresUp = true;
    const readiness = new Readiness().add('postgres', () => (postgresUp ? Promise.resolve() : Promise.reject(new Error('down'))));
    const server = listener(healthHandler({ readiness }));
    await server.listen();
    expect(await get(server, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get(server, '/readyz')).toEqual({ status: 200, body: { ready: true, checks: { postgres: { ok: true } } } });
    postgresUp = false;
    expect(await get(server, '/readyz')).toMatchObject({ status: 503, body: { ready: false, checks: { postgres: { ok: false } } } });
    postgresUp = true;
    readiness.drain();
    expect((await get(server, '/readyz')).status).toBe(503);
  });

  it('answers any other path with the registry 404 unless a handler takes it', async () => {
    const bare = listener();
    const routed = listener(healthHandler({ readiness: new Readiness(), otherwise: (_req, res) => res.writeHead(204).end() }));
    await Promise.all([bare.listen(), routed.listen()]);
    expect(await get(bare, '/api/anything')).toEqual({ status: 404, body: { error: { code: 'route_not_found', message: 'No such endpoint.' } } });
    expect((await get(routed, '/api/anything')).status).toBe(204);
    expect((await get(routed, '/healthz')).status).toBe(200);
  });

  it('serves /metrics only when given a metrics handler', async () => {
    const server = listener(healthHandler({ readiness: new Readiness(), metrics: (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('up 1\n') }));
    await server.listen();
    expect(await get(server, '/metrics')).toEqual({ status: 200, body: 'up 1\n' });
    const without = listener();
    await without.listen();
    expect((await get(without, '/metrics')).status).toBe(404);
  });

  it('rejects listen() on a port already taken, and has no port before listening', async () => {
    const first = listener();
    expect(() => first.port).toThrow(/not listening/);
    await first.listen();
    const second = listener(undefined, first.port);
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('closes with connections still open, and a second close is harmless', async () => {
    const server = listener();
    await server.start();
    const port = server.port;
    await get(server, '/healthz');
    await server.stop();
    await server.close();
    await expect(getPort(port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
