import type { HighlightRange } from '@chat/protocol';

export interface TextPiece {
  text: string;
  hit: boolean;
}

/**
 * A body cut at its highlight ranges, for rendering as text nodes (never markup). Ranges that
 * overlap an earlier one, run backwards or reach past the body are cut to fit or left out.
 */
export function splitHighlights(body: string, ranges: readonly HighlightRange[]): TextPiece[] {
  const pieces: TextPiece[] = [];
  let at = 0;
  for (const range of ranges) {
    const start = Math.max(at, Math.min(range.start, body.length));
    const end = Math.min(range.end, body.length);
    if (end <= start) continue;
    if (start > at) pieces.push({ text: body.slice(at, start), hit: false });
    pieces.push({ text: body.slice(start, end), hit: true });
    at = end;
  }
  if (at < body.length || pieces.length === 0) pieces.push({ text: body.slice(at), hit: false });
  return pieces;
}
