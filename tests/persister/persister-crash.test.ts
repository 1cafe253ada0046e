import { afterEach, expect, it } from '@jest/globals';
import { describeWithServices, NATS, POSTGRES } from '../support/services.ts';
import { byId, eventually, exited, PersisterFixture } from './persister-fixture.ts';

const describeReal = await describeWithServices(POSTGRES, NATS);

describeReal('a persister process killed while writing', () => {
  let fixture: PersisterFixture | undefined;

  afterEach(async () => {
    await fixture?.dispose();
  });

  it('leaves every published message in chat_messages exactly once after a restart', async () => {
    fixture = await new PersisterFixture().open();
    const current = fixture;
    const sent = await fixture.publish(40, 500);
    // Small batches keep the first process busy long enough to be killed part way.
    const env = { PERSIST_BATCH_SIZE: '20' };

    const first = fixture.spawnPersister(env);
    await eventually(async () => (await current.countRows(sent)) >= 1_000, 30_000, 'the first process to write');
    first.kill('SIGKILL');
    await exited(first);
    const writtenBeforeKill = await fixture.countRows(sent);
    expect(writtenBeforeKill).toBeLessThan(sent.length);

    // Batches the killed process held unacknowledged come back after the 30 s ack wait.
    const second = fixture.spawnPersister(env);
    await eventually(async () => (await current.countRows(sent)) === sent.length, 90_000, 'every message to be written');
    expect(byId(await fixture.storedMessages(sent))).toEqual(byId(sent));

    second.kill('SIGTERM');
    await exited(second);
    expect(second.exitCode).toBe(0);
  }, 150_000);
});
