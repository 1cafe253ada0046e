import { afterEach, expect, it } from '@jest/globals';
import type { ChatMessage } from '@chat/protocol';
import { PersisterWorker } from '@chat/persister';
import { describeWithServices, NATS, POSTGRES } from '../support/services.ts';
import { byId, eventually, PersisterFixture, TEST_NATS_URL } from './persister-fixture.ts';
import { silentLogger } from './silent-logger.ts';

const describeReal = await describeWithServices(POSTGRES, NATS);

describeReal('persister replicas on one durable consumer', () => {
  let fixture: PersisterFixture | undefined;
  const workers: PersisterWorker[] = [];

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    await fixture?.dispose();
  });

  it('share the work and write every message exactly once, as it was published', async () => {
    fixture = await new PersisterFixture().open();
    const sent = await fixture.publish(20, 100);
    const written = [0, 0, 0];
    for (const [index] of written.entries()) {
      const store = fixture.store;
      workers.push(
        new PersisterWorker({
          natsServers: TEST_NATS_URL,
          connectionName: `replica-${index}`,
          queue: { ...fixture.queueOptions, batchSize: 25 },
          deadLetters: fixture.deadLetters,
          store: {
            insertMessages: async (messages: readonly ChatMessage[]) => {
              const inserted = await store.insertMessages(messages);
              written[index] = (written[index] ?? 0) + inserted;
              return inserted;
            },
          },
          logger: silentLogger,
        }),
      );
    }
    await Promise.all(workers.map((worker) => worker.start()));
    const current = fixture;
    await eventually(async () => (await current.countRows(sent)) === sent.length, 30_000, 'every message to be written');
    // A batch's rows can be visible before its insert's answer has reached the replica that sent it.
    const total = () => written.reduce((sum, count) => sum + count, 0);
    await eventually(() => Promise.resolve(total() >= sent.length), 10_000, 'every insert to have answered');

    expect(written.every((count) => count > 0)).toBe(true);
    expect(total()).toBe(sent.length);
    expect(byId(await fixture.storedMessages(sent))).toEqual(byId(sent));
  }, 60_000);
});
