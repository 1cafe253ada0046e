import { describe, expect, it } from '@jest/globals';
import { parseClientFrame } from './frames.ts';
import { postMessageBodySchema } from './rest.ts';

const limits = { maxMessageChars: 4000 };

function deepMetadata(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

describe('parseClientFrame', () => {
  it('accepts a well-formed send', () => {
    expect(parseClientFrame('{"type":"send","clientMsgId":"c1","body":"hi","metadata":{"a":[1,{"b":2}]}}', limits)).toMatchObject({ ok: true });
  });

  it('refuses metadata nested thousands of levels deep with invalid_frame, without throwing', () => {
    const text = `{"type":"send","clientMsgId":"c1","body":"hi","metadata":${deepMetadata(3000)}}`;
    expect(text.length).toBeLessThan(64 * 1024);
    expect(parseClientFrame(text, limits)).toMatchObject({ ok: false, code: 'invalid_frame', clientMsgId: 'c1' });
  });

  it('refuses a frame past the configured depth or entry bounds', () => {
    const frame = '{"type":"send","clientMsgId":"c1","body":"hi","metadata":{"a":{"b":{}}}}';
    expect(parseClientFrame(frame, { ...limits, json: { maxDepth: 3, maxEntries: 100 } })).toMatchObject({ ok: false, code: 'invalid_frame' });
    expect(parseClientFrame(frame, { ...limits, json: { maxDepth: 4, maxEntries: 100 } })).toMatchObject({ ok: true });
    expect(parseClientFrame(frame, { ...limits, json: { maxDepth: 4, maxEntries: 5 } })).toMatchObject({ ok: false, code: 'invalid_frame' });
  });

  it.each([
    ['NUL in the body', { body: 'a\u0000b' }],
    ['a lone surrogate in the body', { body: 'a\ud800' }],
    ['NUL in a metadata value', { metadata: { k: '\u0000' } }],
    ['NUL in a metadata key', { metadata: { ['k\u0000']: 1 } }],
    ['a lone surrogate in a nested metadata key', { metadata: { a: [{ ['\udfff']: 1 }] } }],
  ])('refuses %s with invalid_frame', (_name, fields) => {
    const frame = JSON.stringify({ type: 'send', clientMsgId: 'c1', body: 'ok', ...fields });
    expect(parseClientFrame(frame, limits)).toMatchObject({ ok: false, code: 'invalid_frame', clientMsgId: 'c1' });
  });

  it('refuses NUL in the clientMsgId and does not echo it back', () => {
    const result = parseClientFrame(JSON.stringify({ type: 'send', clientMsgId: 'c\u0000', body: 'ok' }), limits);
    expect(result).toEqual({ ok: false, code: 'invalid_frame', message: expect.any(String) });
  });

  it('still answers too_large for metadata over 4 KiB', () => {
    const frame = JSON.stringify({ type: 'send', clientMsgId: 'c1', body: 'ok', metadata: { big: 'x'.repeat(5000) } });
    expect(parseClientFrame(frame, limits)).toMatchObject({ ok: false, code: 'too_large' });
  });
});

describe('postMessageBodySchema', () => {
  it('refuses deep metadata and unstorable text without throwing', () => {
    const deep = JSON.parse(deepMetadata(5000)) as Record<string, unknown>;
    expect(postMessageBodySchema.safeParse({ body: 'hi', metadata: deep }).success).toBe(false);
    expect(postMessageBodySchema.safeParse({ body: 'a\u0000' }).success).toBe(false);
    expect(postMessageBodySchema.safeParse({ body: 'hi', metadata: { a: '\ud800' } }).success).toBe(false);
    expect(postMessageBodySchema.safeParse({ body: 'hi', metadata: { a: { b: '😀' } } }).success).toBe(true);
  });
});
