import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ackSubjectInfo } from './batch-puller.ts';

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
