import { describe, expect, it } from '@jest/globals';
import { describeViolation, findJsonBoundsViolation, isStorableText } from './json-bounds.ts';

function nested(depth: number): unknown {
  return JSON.parse('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
}

describe('findJsonBoundsViolation', () => {
  it('accepts a value at exactly the depth and entry limits', () => {
    expect(findJsonBoundsViolation(nested(4), { maxDepth: 4, maxEntries: 4 })).toBeUndefined();
    expect(findJsonBoundsViolation([1, 2, { a: 3 }], { maxDepth: 2, maxEntries: 4 })).toBeUndefined();
  });

  it('refuses one level deeper than the limit and says where', () => {
    const found = findJsonBoundsViolation({ x: [[[]]] }, { maxDepth: 3, maxEntries: 100 });
    expect(found).toMatchObject({ reason: 'too_deep', path: ['x', 0, 0] });
  });

  it('refuses nesting far past the stack limit without overflowing it', () => {
    const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)) as unknown;
    expect(findJsonBoundsViolation(deep)).toMatchObject({ reason: 'too_deep' });
    expect(findJsonBoundsViolation({ metadata: nested(100_000) })?.reason).toBe('too_deep');
  });

  it('counts keys and elements across the whole value', () => {
    expect(findJsonBoundsViolation({ a: [1, 2], b: { c: 1 } }, { maxDepth: 10, maxEntries: 5 })).toBeUndefined();
    expect(findJsonBoundsViolation({ a: [1, 2], b: { c: 1, d: 2 } }, { maxDepth: 10, maxEntries: 5 })).toMatchObject({ reason: 'too_many_entries' });
    expect(findJsonBoundsViolation(new Array(3000).fill(0))).toMatchObject({ reason: 'too_many_entries', path: [] });
  });

  it('refuses U+0000 and unpaired surrogates in strings and in keys, and says where', () => {
    expect(findJsonBoundsViolation({ body: 'a\u0000b' })).toMatchObject({ reason: 'unstorable_text', path: ['body'] });
    expect(findJsonBoundsViolation({ m: { ['k\u0000']: 1 } })).toMatchObject({ reason: 'unstorable_text', path: ['m', 'k\u0000'] });
    expect(findJsonBoundsViolation({ m: ['ok', 'x\ud800'] })).toMatchObject({ reason: 'unstorable_text', path: ['m', 1] });
    expect(findJsonBoundsViolation({ ['\udc00']: true })).toMatchObject({ reason: 'unstorable_text' });
  });

  it('accepts every other character, including paired surrogates and noncharacters', () => {
    expect(findJsonBoundsViolation({ text: '😀 \u0001 \u200b \u202e \uffff \ufffe é', '😀': '\ud83d\ude00' })).toBeUndefined();
  });

  it('accepts scalars and null at the top', () => {
    for (const value of [null, 0, true, 'text', undefined]) expect(findJsonBoundsViolation(value)).toBeUndefined();
  });
});

describe('isStorableText', () => {
  it('tells storable text from text PostgreSQL refuses or alters', () => {
    expect(isStorableText('plain')).toBe(true);
    expect(isStorableText('\ud83d\ude00')).toBe(true);
    expect(isStorableText('\u0000')).toBe(false);
    expect(isStorableText('\ud83d')).toBe(false);
    expect(isStorableText('\ude00\ud83d')).toBe(false);
    expect(isStorableText('a\ude00')).toBe(false);
  });
});

describe('describeViolation', () => {
  it('puts where the violation is before its message', () => {
    const found = findJsonBoundsViolation({ a: { b: 1 } }, { maxDepth: 1, maxEntries: 10 });
    expect(found).toMatchObject({ reason: 'too_deep', path: ['a'] });
    expect(found && describeViolation(found)).toBe('a: JSON is nested deeper than 1 levels');
  });
});
