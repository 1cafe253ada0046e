import type { ChildProcess } from 'node:child_process';
import { afterEach, expect, it } from '@jest/globals';
import { onFreePort, refusingPort } from '../support/ports.ts';
import { describeWithServices, NATS, POSTGRES } from '../support/services.ts';
import { eventually, exited, PersisterFixture } from './persister-fixture.ts';

const describeReal = await describeWithServices(POSTGRES, NATS);

const closers: (() => Promise<void>)[] = [];

/** The persister on a free port, once it answers /healthz; on another port if that one was taken first. */
function startPersister(fixture: PersisterFixture, env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> {
  return onFreePort(async (port) => {
    const child = fixture.spawnPersister({ PERSISTER_PORT: String(port), ...env });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ended = exited(child).then(() => {
      throw new Error(`the persister exited with ${child.exitCode} before it was live: ${stderr}`);
    });
    // Start-up alone (loading the modules) takes tens of seconds on a busy machine; it is not what is tested.
    await Promise.race([eventually(async () => (await probe(port, '/healthz'))?.status === 200, 60_000, 'liveness'), ended]);
    return { child, port };
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
    for (const close of closers.splice(0)) await close();
  });

  /** A PostgreSQL or NATS address nothing answers at. */
  async function unreachable(): Promise<number> {
    const refusing = await refusingPort();
    closers.push(() => refusing.close());
    return refusing.port;
  }

  it('is live and ready when PostgreSQL and NATS answer, and stops cleanly on SIGTERM', async () => {
    fixture = await new PersisterFixture().open();
    const { child, port } = await startPersister(fixture);
    await eventually(async () => (await probe(port, '/readyz'))?.status === 200, 15_000, 'readiness');
    expect(await probe(port, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    child.kill('SIGTERM');
    await exited(child);
    expect(child.exitCode).toBe(0);
  }, 90_000);

  it('is live but not ready while PostgreSQL is unreachable', async () => {
    fixture = await new PersisterFixture().open();
    const { port } = await startPersister(fixture, { DATABASE_URL: `postgres://postgres@127.0.0.1:${await unreachable()}/test` });
    // The consumer connects after the endpoints are up; wait for NATS so the report isolates PostgreSQL.
    const natsOk = async () => ((await probe(port, '/readyz'))?.body['checks'] as { nats?: { ok: boolean } } | undefined)?.nats?.ok === true;
    await eventually(natsOk, 15_000, 'the NATS check to pass');
    const ready = await probe(port, '/readyz');
    expect(ready?.status).toBe(503);
    expect(ready?.body['checks']).toMatchObject({ postgres: { ok: false }, nats: { ok: true } });
  }, 90_000);

  it('is live but not ready while NATS is unreachable', async () => {
    fixture = await new PersisterFixture().open();
    const { port } = await startPersister(fixture, { NATS_URL: `nats://127.0.0.1:${await unreachable()}` });
    const ready = await probe(port, '/readyz');
    expect(ready?.status).toBe(503);
    expect(ready?.body['checks']).toMatchObject({ postgres: { ok: true }, nats: { ok: false } });
  }, 90_000);
});
