import type { HistoryRange } from './ports.ts';

/** Seqs strictly between afterSeq and beforeSeq that a history page lacks. */
export interface HistoryHole {
  afterSeq: number;
  beforeSeq: number;
}

/**
 * The span of seqs missing from a page merged from the store and the recent list, within the
 * `limit` seqs the page should cover. Such a hole holds messages that are acknowledged but neither
 * written by the persister yet nor still in the capped recent list; only the queue has them.
 * Nothing is reported past the newest seq known to exist (`newestKnown`, or the page's own).
 */
export function findHole(seqs: readonly number[], range: HistoryRange, newestKnown = 0): HistoryHole | undefined {
  const sorted = [...seqs].sort((a, b) => a - b);
  const gaps = range.after === undefined ? gapsBackwards(sorted, range, newestKnown) : gapsForwards(sorted, range.after, range.limit, newestKnown);
  const first = gaps[0];
  const last = gaps.at(-1);
  return first === undefined || last === undefined ? undefined : { afterSeq: first.from - 1, beforeSeq: last.to + 1 };
}

interface Gap {
  from: number;
  to: number;
}

/** Catching up: the page should be after+1, after+2, … for `limit` seqs, as far as seqs are known to exist. */
function gapsForwards(sorted: readonly number[], after: number, limit: number, newestKnown: number): Gap[] {
  const gaps: Gap[] = [];
  const last = after + limit;
  let expected = after + 1;
  for (const seq of sorted) {
    if (expected > last) break;
    if (seq > expected) gaps.push({ from: expected, to: Math.min(seq - 1, last) });
    expected = Math.max(expected, seq + 1);
  }
  // Past the newest seq read, up to one known to exist (the head): only the queue may hold those.
  const top = Math.min(last, newestKnown);
  if (expected <= top) gaps.push({ from: expected, to: top });
  return gaps;
}

/** Latest or scrolling back: the page should be the `limit` seqs below `before` and the newest known, never below 1. */
function gapsBackwards(sorted: readonly number[], range: HistoryRange, newestKnown: number): Gap[] {
  const top = Math.min((range.before ?? Infinity) - 1, Math.max(sorted.at(-1) ?? 0, newestKnown));
  if (top < 1) return [];
  const floor = Math.max(1, top - range.limit + 1);
  const gaps: Gap[] = [];
  let expected = top;
  for (let i = sorted.length - 1; i >= 0 && expected >= floor; i -= 1) {
    const seq = sorted[i] ?? 0;
    if (seq < expected) gaps.unshift({ from: Math.max(seq + 1, floor), to: expected });
    expected = Math.min(expected, seq - 1);
  }
  if (expected >= floor) gaps.unshift({ from: floor, to: expected });
  return gaps;
}
