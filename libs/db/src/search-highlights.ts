import type { HighlightRange } from '@chat/protocol';

/** One token of `ts_debug`: its type, its text, and the lexemes it counts as (null for blanks). */
export type DebugToken = readonly [alias: string, token: string, lexemes: readonly string[] | null];

/**
 * Token types the parser emits for a whole compound before emitting its parts (`foo-bar`, then
 * `foo`, `-`, `bar`; a URL, then its host and path): they do not move along the text.
 */
const COMPOUNDS = new Set(['url', 'asciihword', 'hword', 'numhword']);

/**
 * The lexemes a query looks for, from its text form (`'foo' & 'bar' <-> 'baz' & !'qux'`): every
 * quoted lexeme but those negated one by one, which a hit does not contain.
 */
export function wantedLexemes(queryText: string): Set<string> {
  const wanted = new Set<string>();
  for (const match of queryText.matchAll(/(!?)'((?:[^'\\]|''|\\.)*)'/g)) {
    if (match[1] === '!' || match[2] === undefined) continue;
    wanted.add(match[2].replaceAll("''", "'").replace(/\\(.)/g, '$1'));
  }
  return wanted;
}

/**
 * Where the wanted words are in `body`, as sorted, disjoint `[start, end)` ranges. The parser's
 * tokens (compounds aside) follow one another through the body, so their lengths give the offsets;
 * should a token ever not be where expected, it is looked for further on, and the search ends if
 * it is not there, so a range never points outside the body.
 */
export function highlightRanges(body: string, tokens: readonly DebugToken[], wanted: ReadonlySet<string>): HighlightRange[] {
  const ranges: HighlightRange[] = [];
  let at = 0;
  for (const [alias, token, lexemes] of tokens) {
    if (token.length === 0) continue;
    let start = at;
    if (!body.startsWith(token, start)) {
      start = body.indexOf(token, at);
      if (start < 0) break;
    }
    if (lexemes?.some((lexeme) => wanted.has(lexeme))) ranges.push({ start, end: start + token.length });
    at = COMPOUNDS.has(alias) ? start : start + token.length;
  }
  return mergeRanges(ranges);
}

function mergeRanges(ranges: HighlightRange[]): HighlightRange[] {
  const merged: HighlightRange[] = [];
  for (const range of [...ranges].sort((a, b) => a.start - b.start)) {
    const last = merged.at(-1);
    if (last !== undefined && range.start <= last.end) last.end = Math.max(last.end, range.end);
    else merged.push({ ...range });
  }
  return merged;
}
