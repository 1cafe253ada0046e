import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import fc from 'fast-check';
import { ackSubjectInfo, BatchPuller, pulled } from './batch-puller.ts';

describe('ackSubjectInfo', () => {
  it('reads the delivery count and the pending messages from both forms of ack subject', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.nat(), fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/), (count, pending, name) => {
        const expected = { deliveryCount: count, pending };
        expect(ackSubjectInfo(`$JS.ACK.${name}.persister.${count}.17.9.1733112000000000000.${pending}`)).toEqual(expected);
        expect(ackSubjectInfo(`$JS.ACK._.acchash.${name}.persister.${count}.17.9.1733112000000000000.${pending}.rnd`)).toEqual(expected);
      }),
    );
  });

  it('takes a subject it cannot read as a first delivery with nothing pending', () => {
    expect(ackSubjectInfo('')).toEqual({ deliveryCount: 1, pending: 0 });
    expect(ackSubjectInfo('$JS.ACK.S.C.x.1.1.1.y')).toEqual({ deliveryCount: 1, pending: 0 });
  });
});

describe('pulled', () => {
  const fakeMsg = (): Msg => ({ data: Uint8Array.of(1, 2), headers: undefined, reply: '$JS.ACK.S.C.1.1.1.1.0' }) as unknown as Msg;
  const recorder = (answers: string[]) => (_subject: string, payload: Uint8Array) => answers.push(new TextDecoder().decode(payload));

  it('answers JetStream once per delivery, whatever is called after the first answer', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('ack', 'nak', 'nakLater', 'term'), { minLength: 1, maxLength: 5 }), (calls) => {
        const answers: string[] = [];
        const message = pulled(fakeMsg(), 3, recorder(answers));
        for (const call of calls) {
          if (call === 'ack') message.ack();
          else if (call === 'nak') message.nak();
          else if (call === 'nakLater') message.nak(1000);
          else message.term();
        }
        expect(answers).toHaveLength(1);
        const first = { ack: '+ACK', nak: '-NAK', nakLater: '-NAK {"delay":1000000000}', term: '+TERM' }[calls[0] ?? 'ack'];
        expect(answers[0]).toBe(first);
        expect(message.deliveryCount).toBe(3);
      }),
    );
  });

  it('keeps its accessors on the prototype: a getter per message object left each one surviving every scavenge', () => {
    const message = pulled(fakeMsg(), 1, recorder([]));
    expect(Object.getOwnPropertyDescriptor(message, 'headers')).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(message, 'ack')).toBeUndefined();
    expect(message.data).toEqual(Uint8Array.of(1, 2));
  });
});

/** A connection that records what is published, and hands the puller what a server would send. */
class FakeConnection {
  readonly published: { subject: string; text: string }[] = [];
  #deliver: ((error: Error | null, message: Msg) => void) | undefined;
  #prefix = '';

  subscribe(subject: string, options: { callback: (error: Error | null, message: Msg) => void }): Subscription {
    this.#prefix = subject.slice(0, -2);
    this.#deliver = options.callback;
    return { unsubscribe: () => undefined } as unknown as Subscription;
  }

  publish(subject: string, payload: Uint8Array): void {
    this.published.push({ subject, text: new TextDecoder().decode(payload) });
  }

  /** How many pulls were published. */
  pulls(): number {
    return this.published.filter(({ subject }) => subject.startsWith('$JS.API.CONSUMER.MSG.NEXT.')).length;
  }

  /** Delivers stored messages for the oldest pull, each with its ack subject. */
  deliver(count: number, pendingAfter: number, firstSeq: number): void {
    for (let i = 0; i < count; i++) {
      const seq = firstSeq + i;
      const message = { subject: 'chat.s', reply: `$JS.ACK.S.persister.1.${seq}.${seq}.1733112000000000000.${pendingAfter + count - 1 - i}`, data: Uint8Array.of(123, 125), headers: undefined };
      this.#deliver?.(null, message as unknown as Msg);
    }
  }

  /** Ends pull number `id` with a status, as the server does when it has no more. */
  end(id: number, code: number): void {
    const message = { subject: `${this.#prefix}.${String(id)}`, reply: undefined, data: new Uint8Array(), headers: { code, description: 'No Messages' } };
    this.#deliver?.(null, message as unknown as Msg);
  }
}

/** Stops, letting the pulls still under way run out (a fake server never ends them). */
async function stopEndingPulls(puller: BatchPuller): Promise<void> {
  const stopped = puller.stop();
  jest.advanceTimersByTime(OPTIONS.requestTimeoutMs);
  await stopped;
}

const OPTIONS = { stream: 'S', consumer: 'persister', highWater: 100, pullSize: 50, pollMs: 50, maxPollMs: 200, requestTimeoutMs: 2_000 };

describe('BatchPuller answers', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('sends the acks of a batch in the write of the next pull, ahead of it, and not before the caller acks', async () => {
    const nc = new FakeConnection();
    const puller = new BatchPuller(nc as unknown as NatsConnection, OPTIONS);
    expect(nc.pulls()).toBe(1);
    nc.deliver(3, 0, 1);
    nc.end(1, 404);
    const batch = await puller.take(50);
    expect(batch).toHaveLength(3);
    const before = nc.published.length;
    for (const message of batch) message.ack();
    // Held: nothing goes until the next pull, which comes pollMs after a short one.
    expect(nc.published).toHaveLength(before);
    jest.advanceTimersByTime(OPTIONS.pollMs);
    const sent = nc.published.slice(before).map(({ subject, text }) => (text === '+ACK' ? `ack ${subject.split('.')[5] ?? ''}` : subject.startsWith('$JS.API') ? 'pull' : text));
    expect(sent).toEqual(['ack 1', 'ack 2', 'ack 3', 'pull']);
    await stopEndingPulls(puller);
  });

  it('sends held answers once the puller stops, and answers at once after that', async () => {
    const nc = new FakeConnection();
    const puller = new BatchPuller(nc as unknown as NatsConnection, OPTIONS);
    nc.deliver(2, 0, 1);
    nc.end(1, 404);
    const [first, second] = await puller.take(50);
    first?.ack();
    puller.interrupt();
    expect(nc.published.at(-1)).toEqual({ subject: expect.stringMatching(/\.1\.1\.1\./) as unknown as string, text: '+ACK' });
    second?.nak();
    expect(nc.published.at(-1)?.text).toBe('-NAK');
    await puller.stop();
  });

  it('answers a message only once, and sends a held answer after pollMs when the next pull is further off', async () => {
    const nc = new FakeConnection();
    const puller = new BatchPuller(nc as unknown as NatsConnection, OPTIONS);
    nc.deliver(1, 0, 1);
    nc.end(1, 404);
    const [first] = await puller.take(50);
    // The next pull comes back empty, so the one after waits twice pollMs.
    jest.advanceTimersByTime(OPTIONS.pollMs);
    nc.end(2, 404);
    const count = nc.published.length;
    first?.ack();
    first?.ack();
    first?.nak();
    expect(nc.published).toHaveLength(count);
    jest.advanceTimersByTime(OPTIONS.pollMs);
    expect(nc.published.slice(count).map(({ text }) => text)).toEqual(['+ACK']);
    await stopEndingPulls(puller);
  });

  it('answers at once while a backlog drains, when pulls follow without a pause', async () => {
    const nc = new FakeConnection();
    const puller = new BatchPuller(nc as unknown as NatsConnection, { ...OPTIONS, highWater: 4, pullSize: 2 });
    // Served in full with more pending: a backlog.
    nc.deliver(2, 10, 1);
    const [first] = await puller.take(1);
    first?.ack();
    expect(nc.published.at(-1)).toEqual({ subject: expect.stringMatching(/\.1\.1\.1\./) as unknown as string, text: '+ACK' });
    await stopEndingPulls(puller);
  });
});
