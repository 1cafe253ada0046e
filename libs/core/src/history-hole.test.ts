import { describe, expect, it } from '@jest/globals';
import { findHole } from './history-hole.ts';

const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('findHole', () => {
  it('finds nothing in a complete page', () => {
    expect(findHole(seqs(1, 20), { limit: 50 })).toBeUndefined();
    expect(findHole(seqs(1, 20), { limit: 50, after: 0 })).toBeUndefined();
    expect(findHole(seqs(31, 40), { limit: 10, before: 41 })).toBeUndefined();
  });

  it('finds the seqs between the store and the recent list when catching up', () => {
    expect(findHole([1, 2, 3, ...seqs(16, 20)], { limit: 50, after: 0 })).toEqual({ afterSeq: 3, beforeSeq: 16 });
    expect(findHole(seqs(16, 20), { limit: 50, after: 0 })).toEqual({ afterSeq: 0, beforeSeq: 16 });
  });

  it('looks only as far as the page reaches when catching up', () => {
    expect(findHole([1, 2, ...seqs(16, 20)], { limit: 5, after: 0 })).toEqual({ afterSeq: 2, beforeSeq: 6 });
    expect(findHole([...seqs(1, 5), ...seqs(16, 20)], { limit: 5, after: 0 })).toBeUndefined();
  });

  it('finds the seqs below the recent list when reading the latest page, down to seq 1', () => {
    expect(findHole(seqs(16, 20), { limit: 50 })).toEqual({ afterSeq: 0, beforeSeq: 16 });
    expect(findHole([1, 2, 3, ...seqs(16, 20)], { limit: 50 })).toEqual({ afterSeq: 3, beforeSeq: 16 });
    expect(findHole(seqs(16, 20), { limit: 8 })).toEqual({ afterSeq: 12, beforeSeq: 16 });
  });

  it('scrolls back from the cursor when the newer messages known lie above it', () => {
    expect(findHole([], { limit: 10, before: 16 }, 20)).toEqual({ afterSeq: 5, beforeSeq: 16 });
    expect(findHole([], { limit: 10, before: 100 }, 20)).toEqual({ afterSeq: 10, beforeSeq: 21 });
    expect(findHole([], { limit: 10, before: 16 })).toBeUndefined();
  });

  it('reads on past the newest seq of the page up to the newest known when catching up, as far as the page reaches', () => {
    expect(findHole(seqs(1, 5), { limit: 50, after: 0 }, 9)).toEqual({ afterSeq: 5, beforeSeq: 10 });
    expect(findHole([], { limit: 50, after: 3 }, 9)).toEqual({ afterSeq: 3, beforeSeq: 10 });
    expect(findHole(seqs(1, 5), { limit: 7, after: 0 }, 20)).toEqual({ afterSeq: 5, beforeSeq: 8 });
    expect(findHole(seqs(1, 5), { limit: 50, after: 0 }, 5)).toBeUndefined();
  });

  it('spans every gap of the page with one range', () => {
    expect(findHole([1, 3, 5], { limit: 10, after: 0 })).toEqual({ afterSeq: 1, beforeSeq: 5 });
    expect(findHole([1, 3, 5], { limit: 10 })).toEqual({ afterSeq: 1, beforeSeq: 5 });
  });

  it('reports nothing for an empty page', () => {
    expect(findHole([], { limit: 10 })).toBeUndefined();
    expect(findHole([], { limit: 10, after: 4 })).toBeUndefined();
  });
});
