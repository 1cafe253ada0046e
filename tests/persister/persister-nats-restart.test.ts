import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { PersisterWorker } from '@chat/persister';
import type { ChatMessage } from '@chat/protocol';
import { describeWithServices, NATS, POSTGRES } from '../support/services.ts';
import { byId, eventually, exited, PersisterFixture } from './persister-fixture.ts';
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

/** A JetStream server of this test's own, so it can be stopped without disturbing anyone else. */
class PrivateNats {
  readonly dir = mkdtempSync(join(tmpdir(), 'persister-nats-'));
  /** Picked by nats-server itself on the first start (-p -1), kept for the restarts. */
  #port: number | undefined;
  #process: ChildProcess | undefined;

  get url(): string {
    if (this.#port === undefined) throw new Error('nats-server has not started yet');
    return `nats://127.0.0.1:${this.#port}`;
  }

  /** Resolves once this server (not just anything on the port) says it is ready; rejects if it exits first. */
  async start(): Promise<void> {
    if (this.#process !== undefined) return;
    const server = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(this.#port ?? -1), '-sd', this.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#process = server;
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nats-server not ready within 10 s:\n${output}`)), 10_000);
        server.stderr.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const port = /Listening for client connections on [^\s]+:(\d+)/.exec(output)?.[1];
          if (port === undefined || !output.includes('Server is ready')) return;
          clearTimeout(timer);
          this.#port = Number(port);
          resolve();
        });
        server.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`nats-server exited with ${String(code)}:\n${output}`));
        });
      });
    } catch (error) {
      this.#process = undefined;
      throw error;
    }
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
    nats = new PrivateNats();
    await nats.start();
    fixture = await new PersisterFixture({ natsUrl: nats.url }).open();
    const current = fixture;
    worker = new PersisterWorker({
      natsServers: nats.url,
      connectionName: 'nats-restart-test',
      queue: { ...fixture.queueOptions, batchSize: 50 },
      store: fixture.store,
      deadLetters: fixture.deadLetters,
      logger: silentLogger,
    });
    await worker.start();

    const before = await fixture.publish(2, 50);
    await eventually(async () => (await current.countRows(before)) === before.length, 15_000, 'the first messages to be written');

    // Stored in JetStream just before it goes, some perhaps not written yet: they must survive the restart.
    const backlog = await fixture.publish(2, 200);
    await nats.stop();
    const running = worker;
    // Not ready for as long as it is gone, not just at the first look.
    for (let look = 0; look < 3; look++) {
      await expect(running.checkQueue()).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }

    await nats.start();
    await eventually(() => running.checkQueue().then(() => true, () => false), 20_000, 'the queue check to pass again');
    const after = await fixture.publish(2, 50);
    await eventually(async () => (await current.countRows(after)) === after.length, 30_000, 'the later messages to be written');
    await eventually(async () => (await current.countRows(backlog)) === backlog.length, 30_000, 'the backlog from before the outage to be written');
    // Exactly what was published, each once, before, during and after the outage: same ids, seqs and bodies.
    const essence = (messages: readonly ChatMessage[]) => byId(messages).map(({ id, sessionId, seq, body }) => ({ id, sessionId, seq, body }));
    for (const sent of [before, backlog, after]) expect(essence(await current.storedMessages(sent))).toEqual(essence(sent));
  }, 90_000);
});
