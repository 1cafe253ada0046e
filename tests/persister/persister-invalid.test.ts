import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from '@jest/globals';
import { PersisterWorker } from '@chat/persister';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describeWithServices, NATS, POSTGRES } from '../support/services.ts';
import { eventually, message, PersisterFixture, TEST_NATS_URL } from './persister-fixture.ts';
import { silentLogger } from './silent-logger.ts';

const describeReal = await describeWithServices(POSTGRES, NATS);
const encoder = new TextEncoder();

describeReal('a persister meeting messages that can never be stored', () => {
  let fixture: PersisterFixture | undefined;
  let worker: PersisterWorker | undefined;

  afterEach(async () => {
    await worker?.stop();
    await fixture?.dispose();
  });

  it('keeps them as dead letters, acknowledged, and keeps writing the valid messages around them', async () => {
    fixture = await new PersisterFixture().open();
    const current = fixture;
    const sessionId = randomUUID();
    const subject = `${fixture.names.subjectPrefix}.${sessionId}`;
    const nc = await connect({ servers: TEST_NATS_URL });
    const js = jetstream(nc);

    const before = message(sessionId, 1);
    // Passes the schema, but PostgreSQL refuses a NUL character in text.
    const refused = message(sessionId, 2, { body: 'nul \u0000 here' });
    const after = message(sessionId, 3);
    await js.publish(subject, encoder.encode('{not json'));
    await fixture.queue.publish(before);
    await fixture.queue.publish(refused);
    const badSeq = { ...message(sessionId, 4), seq: 'four' };
    await js.publish(subject, encoder.encode(JSON.stringify(badSeq)));
    await fixture.queue.publish(after);

    worker = new PersisterWorker({
      natsServers: TEST_NATS_URL,
      connectionName: 'invalid-test',
      queue: { ...fixture.queueOptions, batchSize: 10 },
      store: fixture.store,
      deadLetters: fixture.deadLetters,
      logger: silentLogger,
      retry: { delayMs: 100, maxDelayMs: 400, maxAttempts: 3 },
    });
    await worker.start();

    const jsm = await jetstreamManager(nc);
    const outstanding = async () => {
      const info = await jsm.consumers.info(current.names.stream, current.names.consumer);
      return info.num_pending + info.num_ack_pending;
    };
    await eventually(async () => (await outstanding()) === 0, 20_000, 'the consumer to have nothing outstanding');
    // Still nothing after a while: dead-lettered messages are acknowledged, not redelivered.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await outstanding()).toBe(0);
    const stored = await fixture.storedMessages([before]);
    expect(stored.map(({ state: _state, ...rest }) => rest)).toEqual([before, refused, after]);
    expect(stored.map((m) => m.state)).toEqual([undefined, 'dead_letter', undefined]);
    const letters = await fixture.deadLetters.list({ limit: 10, sessionId, includeReplayed: true });
    expect(letters.map((l) => [l.reason, l.messageId, l.seq]).sort()).toEqual(
      [
        ['invalid_payload', badSeq.id, null],
        ['refused', refused.id, 2],
      ].sort(),
    );
    // Not JSON: no ids to file it under a session, but kept all the same.
    const unreadable = await fixture.deadLetters.list({ limit: 500, includeReplayed: true });
    expect(unreadable.some((l) => new TextDecoder().decode(l.payload) === '{not json')).toBe(true);
    await nc.close();
  }, 40_000);
});
