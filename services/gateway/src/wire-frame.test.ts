import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import * as ws from 'ws';
import { encodeTextFrame, SharedFrameEncoder } from './wire-frame.ts';

/** ws's frame builder; at run time ws exports it, its type definitions do not. */
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } };

/** What ws itself writes for a server's text frame, header and payload joined. */
function wsFrame(payload: Buffer): Buffer {
  const parts = Sender.frame(payload, { fin: true, opcode: 1, mask: false, rsv1: false, readOnly: true });
  return Buffer.concat(parts);
}

describe('encodeTextFrame', () => {
  it('writes what ws writes, at every payload length class', () => {
    const lengths = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 65_530, max: 65_542 }), fc.constantFrom(125, 126, 127, 65_535, 65_536));
    fc.assert(
      fc.property(lengths, fc.integer({ min: 0, max: 255 }), (length, fill) => {
        const payload = Buffer.alloc(length, fill);
        expect(encodeTextFrame(payload).equals(wsFrame(payload))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('marks the frame final and text, with the payload unmasked after the header', () => {
    const frame = encodeTextFrame(Buffer.from('{"type":"message"}'));
    expect(frame[0]).toBe(0x81);
    expect(frame[1]).toBe(18);
    expect(frame.subarray(2).toString()).toBe('{"type":"message"}');
  });
});

describe('SharedFrameEncoder', () => {
  it('encodes one payload once for all of its recipients, and a new payload anew', () => {
    const encoder = new SharedFrameEncoder();
    const first = Buffer.from('{"seq":1}');
    const second = Buffer.from('{"seq":2}');
    const a = encoder.frameOf(first);
    expect(encoder.frameOf(first)).toBe(a);
    const b = encoder.frameOf(second);
    expect(b).not.toBe(a);
    expect(b.subarray(2).toString()).toBe('{"seq":2}');
    // Back to an earlier payload: encoded again, never confused with the last one.
    expect(encoder.frameOf(first).equals(a)).toBe(true);
  });
});
