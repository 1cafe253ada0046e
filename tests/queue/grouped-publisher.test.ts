import { afterAll, beforeAll, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ensureStream, GroupedPublisher, PublishNotSentError, sessionSubject } from '@chat/jetstream';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, errors, headers, type NatsConnection } from '@nats-io/transport-node';
import { describeWithServices, NATS } from '../support/services.ts';
import { deleteStream, NATS_URL, randomStream } from './queue-harness.ts';

const encoder = new TextEncoder();
const names = randomStream();
let nc: NatsConnection;
let publisher: GroupedPublisher;

function withId(msgId: string): ReturnType<typeof headers> {
  const h = headers();
  h.set('Nats-Msg-Id', msgId);
  return h;
}

(await describeWithServices(NATS))('GroupedPublisher', () => {
  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    await ensureStream(await jetstreamManager(nc), { ...names, replicas: 1 });
    publisher = new GroupedPublisher(nc, 500);
  });

  afterAll(async () => {
    await nc.close();
    await deleteStream(names.stream);
  });

  it('stores one copy per Nats-Msg-Id within a group, and answers each repeat with the first copy\'s stream seq', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 30 }), async (keys) => {
        const prefix = `run${String(run++)}-`;
        const subject = sessionSubject(names.subjectPrefix, prefix);
        // All published in one turn: one group.
        const acks = await Promise.all(keys.map((key, i) => publisher.publish(subject, encoder.encode(String(i)), withId(prefix + String(key)))));
        const firstSeq = new Map<number, number>();
        keys.forEach((key, i) => {
          const ack = acks[i];
          expect(ack?.stream).toBe(names.stream);
          const first = firstSeq.get(key);
          if (first === undefined) {
            expect(ack?.duplicate).toBe(false);
            firstSeq.set(key, ack?.seq ?? -1);
          } else {
            expect(ack).toEqual({ stream: names.stream, seq: first, duplicate: true });
          }
        });
        // Stored in the order they were asked for.
        const stored = [...firstSeq.values()];
        expect(stored).toEqual([...stored].sort((a, b) => a - b));
      }),
      { numRuns: 25 },
    );
  });

  it('fails only the publish nothing stores, not its group-mates', async () => {
    const stored = sessionSubject(names.subjectPrefix, 'kept');
    const results = await Promise.allSettled([
      publisher.publish(stored, encoder.encode('a'), withId('mate-a')),
      publisher.publish(`nostream.${names.stream}`, encoder.encode('b'), withId('mate-b')),
      publisher.publish(stored, encoder.encode('c'), withId('mate-c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[1].status === 'rejected' ? results[1].reason : undefined).toBeInstanceOf(errors.NoRespondersError);
  });

  it('times out only the publish that gets no PubAck, not its group-mates', async () => {
    const silent = `silent.${names.stream}`;
    // A listener that never answers: the request reaches someone, and no PubAck comes back.
    const listener = nc.subscribe(silent);
    await nc.flush();
    const stored = sessionSubject(names.subjectPrefix, 'timed');
    const results = await Promise.allSettled([publisher.publish(silent, encoder.encode('x'), withId('silent-x')), publisher.publish(stored, encoder.encode('y'), withId('timed-y'))]);
    listener.unsubscribe();
    expect(results[0].status === 'rejected' ? results[0].reason : undefined).toBeInstanceOf(errors.TimeoutError);
    expect(results[1].status).toBe('fulfilled');
  });

  it('writes nothing while the connection is known to be down, so a reconnect cannot carry a refused message to the stream', async () => {
    let connected = false;
    const guarded = new GroupedPublisher(nc, 500, () => connected);
    const subject = sessionSubject(names.subjectPrefix, 'down');
    const refused = await Promise.allSettled([guarded.publish(subject, encoder.encode('a'), withId('down-a')), guarded.publish(subject, encoder.encode('b'), withId('down-b'))]);
    expect(refused.map((r) => (r.status === 'rejected' ? r.reason instanceof PublishNotSentError : false))).toEqual([true, true]);
    const jsm = await jetstreamManager(nc);
    expect(await jsm.streams.getMessage(names.stream, { last_by_subj: subject }).catch(() => null)).toBeNull();
    connected = true;
    await expect(guarded.publish(subject, encoder.encode('a'), withId('down-a'))).resolves.toMatchObject({ duplicate: false });
  });

  it('refuses publishes once its connection is closed, each with its own error', async () => {
    const own = await connect({ servers: NATS_URL });
    const closing = new GroupedPublisher(own, 500);
    await own.close();
    const results = await Promise.allSettled([closing.publish('a', encoder.encode('a'), withId('closed-a')), closing.publish('b', encoder.encode('b'), withId('closed-b'))]);
    expect(results.map((r) => (r.status === 'rejected' ? r.reason instanceof errors.ClosedConnectionError : false))).toEqual([true, true]);
  });
});
