import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { highlightRanges, wantedLexemes, type DebugToken } from './search-highlights.ts';

describe('search highlights', () => {
  it('wants every quoted lexeme of a query but those negated one by one', () => {
    expect([...wantedLexemes("'foo' & 'bar' <-> 'baz' & !'qux' | 'it''s' & 'a\\\\b'")]).toEqual(['foo', 'bar', 'baz', "it's", 'a\\b']);
    expect([...wantedLexemes('')]).toEqual([]);
  });

  it('marks the matched tokens, a compound and its parts as one range', () => {
    const tokens: DebugToken[] = [
      ['asciiword', 'See', ['see']],
      ['blank', ' ', null],
      ['asciihword', 'foo-bar', ['foo-bar']],
      ['hword_asciipart', 'foo', ['foo']],
      ['blank', '-', null],
      ['hword_asciipart', 'bar', ['bar']],
      ['blank', ' ', null],
      ['asciiword', 'FOO', ['foo']],
    ];
    expect(highlightRanges('See foo-bar FOO', tokens, new Set(['foo']))).toEqual([
      { start: 4, end: 7 },
      { start: 12, end: 15 },
    ]);
    expect(highlightRanges('See foo-bar FOO', tokens, new Set(['foo-bar', 'bar']))).toEqual([{ start: 4, end: 11 }]);
  });

  it('never gives a range outside the body, whatever tokens it is given', () => {
    const token = fc.tuple(fc.constantFrom('word', 'blank', 'url', 'hword'), fc.string({ maxLength: 6 }), fc.option(fc.array(fc.constantFrom('a', 'b', 'ab'), { maxLength: 2 }), { nil: null }));
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.array(token, { maxLength: 12 }), (body, tokens) => {
        const ranges = highlightRanges(body, tokens, new Set(['a', 'ab']));
        let end = 0;
        for (const range of ranges) {
          expect(range.start).toBeGreaterThanOrEqual(end);
          expect(range.end).toBeGreaterThan(range.start);
          expect(range.end).toBeLessThanOrEqual(body.length);
          end = range.end;
        }
      }),
    );
  });
});
