import { describe, it, expect } from '@jest/globals';
import { decodeBody, encodeBody } from './protocol.ts';

describe('message bodies', () => {
  it('carry the step and send time to any receiver, padded to the requested size', () => {
    const body = encodeBody(7, 1_700_000_000_123.456, 100);
    expect(body).toHaveLength(100);
    expect(decodeBody(body)).toEqual({ stepId: 7, sentAtMs: 1_700_000_000_123.456 });
  });

  it('are ignored when they come from someone else', () => {
    expect(decodeBody('hello')).toBeNull();
    expect(decodeBody('b|x|y|')).toBeNull();
  });
});
