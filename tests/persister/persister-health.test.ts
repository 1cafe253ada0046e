import { createServer } from 'node:net';
import { afterEach, expect, it } from '@jest/globals';
import { describeWithServices, NATS, POSTGRES } from '../support/services.ts';
import { eventually, exited, PersisterFixture } from './persister-fixture.ts';

const describeReal = await describeWithServices(POSTGRES, NATS);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function probe(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

describeReal('the persister process health endpoints', () => {
  let fixture: PersisterFixture | undefined;

  afterEach(async () => {
    await fixture?.dispose();
  });

  it('is live and ready when PostgreSQL and NATS answer, and stops cleanly on SIGTERM', async () => {
    fixture = await new PersisterFixture().open();
    const port = await freePort();
    const child = fixture.spawnPersister({ PERSISTER_PORT: String(port) });
    await eventually(async () => (await probe(port, '/readyz'))?.status === 200, 15_000, 'readiness');
    expect(await probe(port, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    child.kill('SIGTERM');
    await exited(child);
    expect(child.exitCode).toBe(0);
  }, 30_000);

  it('is live but not ready while PostgreSQL is unreachable', async () => {
    fixture = await new PersisterFixture().open();
    const port = await freePort();
    fixture.spawnPersister({ PERSISTER_PORT: String(port), DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/test` });
    await eventually(async () => (await probe(port, '/healthz'))?.status === 200, 15_000, 'liveness');
    // The consumer connects after the endpoints are up; wait for NATS so the report isolates PostgreSQL.
    const natsOk = async () => ((await probe(port, '/readyz'))?.body['checks'] as { nats?: { ok: boolean } } | undefined)?.nats?.ok === true;
    await eventually(natsOk, 15_000, 'the NATS check to pass');
    const ready = await probe(port, '/readyz');
    expect(ready?.status).toBe(503);
    expect(ready?.body['checks']).toMatchObject({ postgres: { ok: false }, nats: { ok: true } });
  }, 30_000);

  it('is live but not ready while NATS is unreachable', async () => {
    fixture = await new PersisterFixture().open();
    const port = await freePort();
    fixture.spawnPersister({ PERSISTER_PORT: String(port), NATS_URL: `nats://127.0.0.1:${await freePort()}` });
    await eventually(async () => (await probe(port, '/healthz'))?.status === 200, 15_000, 'liveness');
    const ready = await probe(port, '/readyz');
    expect(ready?.status).toBe(503);
    expect(ready?.body['checks']).toMatchObject({ postgres: { ok: true }, nats: { ok: false } });
  }, 30_000);
});
