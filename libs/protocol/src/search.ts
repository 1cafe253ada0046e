import { z } from 'zod';
import { storableTextSchema, uuid } from './frames.ts';

/** Longest search text: a few phrases; longer input is refused rather than searched. */
export const SEARCH_MAX_QUERY_CHARS = 200;
export const SEARCH_DEFAULT_LIMIT = 20;
export const SEARCH_MAX_LIMIT = 100;

export const searchQuerySchema = z.object({
  q: storableTextSchema
    .max(SEARCH_MAX_QUERY_CHARS)
    .refine((q) => q.trim().length > 0, { message: 'give some text to search for' })
    .meta({ description: `Words to find (web-search syntax: "a phrase", or, -excluded), at most ${SEARCH_MAX_QUERY_CHARS} characters.` }),
  limit: z.coerce.number().int().min(1).max(SEARCH_MAX_LIMIT).default(SEARCH_DEFAULT_LIMIT),
  before: z.coerce.number().int().positive().optional().meta({ description: 'Only hits with a lower seq: the previous page\'s `nextBefore`.' }),
});
export type SearchQuery = z.infer<typeof searchQuerySchema>;

/** `[start, end)` of a matched word in `body`, in UTF-16 code units (JavaScript string indices). */
export const highlightRangeSchema = z
  .object({ start: z.number().int().nonnegative(), end: z.number().int().positive() })
  .meta({ id: 'HighlightRange' });
export type HighlightRange = z.infer<typeof highlightRangeSchema>;

export const searchHitSchema = z
  .object({
    id: uuid,
    seq: z.number().int().positive(),
    userId: uuid,
    userName: z.string().optional(),
    body: z.string(),
    timestamp: z.iso.datetime({ offset: true }),
    /** Sorted, disjoint; plain offsets, never markup, so a client renders the text itself. */
    highlights: z.array(highlightRangeSchema).meta({ description: 'Where the matched words are in `body`: sorted, disjoint `[start, end)` offsets in UTF-16 code units; never markup.' }),
  })
  .meta({ id: 'SearchHit' });
export type SearchHit = z.infer<typeof searchHitSchema>;

export const searchResponseSchema = z
  .object({
    hits: z.array(searchHitSchema).meta({ description: 'Newest (highest seq) first.' }),
    nextBefore: z.number().int().positive().nullable().meta({ description: 'The `before` of the next, older page; null on the last.' }),
  })
  .meta({ id: 'SearchResponse' });
export type SearchResponse = z.infer<typeof searchResponseSchema>;
