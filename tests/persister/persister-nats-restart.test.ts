import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { PersisterWorker } from '@chat/persister';
import { describeWithServices, NATS, POSTGRES } from '../support/services.ts';
import { eventually, exited, PersisterFixture } from './persister-fixture.ts';
import { silentLogger } from './silent-logger.ts';

/** The test stops a server, so it runs one of its own; that needs the nats-server binary. */
function natsServerInstalled(): boolean {
  if (spawnSync('nats-server', ['--version']).error === undefined) return true;
  const message = 'nats-server is not on PATH; install it (https://github.com/nats-io/nats-server/releases) to run the NATS restart test.';
  if (process.env['CI']) throw new Error(message);
  console.warn(`\n*** SKIPPING: ${message} ***\n`);
  return false;
}

const describeReal = natsServerInstalled() ? await describeWithServices(POSTGRES, NATS) : describe.skip;

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

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

/** A JetStream server of this test's own, so it can be stopped without disturbing anyone else. */
class PrivateNats {
  readonly dir = mkdtempSync(join(tmpdir(), 'persister-nats-'));
  readonly port: number;
  #process: ChildProcess | undefined;

  constructor(port: number) {
    this.port = port;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.#process !== undefined) return;
    this.#process = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.dir], { stdio: 'ignore' });
    await eventually(() => listening(this.port), 10_000, 'nats-server to listen');
  }

  async stop(): Promise<void> {
    const server = this.#process;
    if (server === undefined) return;
    server.kill('SIGTERM');
    await exited(server);
    this.#process = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describeReal('a persister whose NATS server goes away', () => {
  let nats: PrivateNats | undefined;
  let fixture: PersisterFixture | undefined;
  let worker: PersisterWorker | undefined;

  afterEach(async () => {
    await nats?.start().catch(() => undefined);
    await worker?.stop();
    await fixture?.dispose();
    await nats?.dispose();
  });

  it('reports not ready while it is gone and resumes writing by itself when it returns', async () => {
    nats = new PrivateNats(await freePort());
    await nats.start();
    fixture = await new PersisterFixture({ natsUrl: nats.url }).open();
    const current = fixture;
    worker = new PersisterWorker({
      natsUrl: nats.url,
      connectionName: 'nats-restart-test',
      queue: { ...fixture.queueOptions, batchSize: 50 },
      store: fixture.store,
      deadLetters: fixture.deadLetters,
      logger: silentLogger,
    });
    await worker.start();

    const before = await fixture.publish(2, 50);
    await eventually(async () => (await current.countRows(before)) === before.length, 15_000, 'the first messages to be written');

    await nats.stop();
    await expect(worker.checkQueue()).rejects.toThrow();

    await nats.start();
    const running = worker;
    await eventually(() => running.checkQueue().then(() => true, () => false), 20_000, 'the queue check to pass again');
    const after = await fixture.publish(2, 50);
    await eventually(async () => (await current.countRows(after)) === after.length, 30_000, 'the later messages to be written');
  }, 90_000);
});
