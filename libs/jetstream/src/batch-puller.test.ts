import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { deliveryCountOf } from './batch-puller.ts';

describe('deliveryCountOf', () => {
  it('reads the count from both forms of ack subject', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/), (count, name) => {
        expect(deliveryCountOf(`$JS.ACK.${name}.persister.${count}.17.9.1733112000000000000.4`)).toBe(count);
        expect(deliveryCountOf(`$JS.ACK._.acchash.${name}.persister.${count}.17.9.1733112000000000000.4.rnd`)).toBe(count);
      }),
    );
  });

  it('takes a subject it cannot read as a first delivery', () => {
    expect(deliveryCountOf('')).toBe(1);
    expect(deliveryCountOf('$JS.ACK.S.C.x.1.1.1.0')).toBe(1);
  });
});
