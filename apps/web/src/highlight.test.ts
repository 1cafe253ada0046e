import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { splitHighlights } from './highlight.ts';

describe('splitHighlights', () => {
  it('cuts the body at the ranges, marking the pieces inside them', () => {
    expect(splitHighlights('Revenue forecast up', [{ start: 8, end: 16 }])).toEqual([
      { text: 'Revenue ', hit: false },
      { text: 'forecast', hit: true },
      { text: ' up', hit: false },
    ]);
    expect(splitHighlights('ab', [{ start: 0, end: 2 }])).toEqual([{ text: 'ab', hit: true }]);
    expect(splitHighlights('', [])).toEqual([{ text: '', hit: false }]);
  });

  it('always gives back the whole body, in order, whatever the ranges', () => {
    const ranges = fc.array(fc.record({ start: fc.nat({ max: 60 }), end: fc.nat({ max: 60 }) }), { maxLength: 6 });
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), ranges, (body, given) => {
        const pieces = splitHighlights(body, given);
        expect(pieces.map((piece) => piece.text).join('')).toBe(body);
        for (const piece of pieces.filter((p) => p.hit)) expect(piece.text.length).toBeGreaterThan(0);
      }),
    );
  });
});
