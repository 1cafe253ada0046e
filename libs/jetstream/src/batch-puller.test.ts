import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Msg } from '@nats-io/transport-node';
import { ackSubjectInfo, pulled } from './batch-puller.ts';

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
  const fakeMsg = (answers: string[]): Msg => ({ data: Uint8Array.of(1, 2), headers: undefined, respond: (payload: Uint8Array) => answers.push(new TextDecoder().decode(payload)) }) as unknown as Msg;

  it('answers JetStream once per delivery, whatever is called after the first answer', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('ack', 'nak', 'nakLater', 'term'), { minLength: 1, maxLength: 5 }), (calls) => {
        const answers: string[] = [];
        const message = pulled(fakeMsg(answers), 3);
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
    const message = pulled(fakeMsg([]), 1);
    expect(Object.getOwnPropertyDescriptor(message, 'headers')).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(message, 'ack')).toBeUndefined();
    expect(message.data).toEqual(Uint8Array.of(1, 2));
  });
});
