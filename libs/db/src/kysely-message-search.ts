import type { MessageSearchPage, MessageSearchQuery } from '@chat/core';
import type { SearchHit } from '@chat/protocol';
import { sql, type Kysely } from 'kysely';
import type { Database } from './database.ts';
import { highlightRanges, wantedLexemes, type DebugToken } from './search-highlights.ts';

interface SearchRow {
  id: string;
  seq: string | number;
  user_id: string;
  user_name: string | null;
  message: string;
  timestamp: Date;
  query_text: string;
  /** json: parsed by pg and PGlite alike, a string only if a driver leaves it as text. */
  tokens: DebugToken[] | string;
}

/**
 * Messages of a session whose body matches the text, newest first, through the GIN index on
 * `body_search`. The text is read by websearch_to_tsquery: it accepts any input without a syntax
 * error (unlike to_tsquery) and still understands "quoted phrases", `or` and `-excluded` words
 * (which plainto_tsquery would search for as words). Each hit's tokens come from ts_debug with
 * the same `simple` configuration, so the highlighted words are the ones that matched.
 */
export async function searchMessages(db: Kysely<Database>, query: MessageSearchQuery): Promise<MessageSearchPage> {
  const tsquery = sql`websearch_to_tsquery('simple'::regconfig, ${query.text})`;
  const before = query.before === undefined ? sql`` : sql`and m.seq < ${query.before}`;
  const { rows } = await sql<SearchRow>`
    select m.id, m.seq, m.user_id, m.user_name, m.message, m.timestamp, ${tsquery}::text as query_text,
      (select coalesce(json_agg(json_build_array(d.alias, d.token, d.lexemes)), '[]'::json) from ts_debug('simple'::regconfig, m.message) d) as tokens
    from chat_messages m
    where m.session_id = ${query.sessionId} and m.body_search @@ ${tsquery} ${before}
    order by m.seq desc
    limit ${query.limit + 1}`.execute(db);
  const page = rows.slice(0, query.limit);
  const wanted = wantedLexemes(page[0]?.query_text ?? '');
  const hits = page.map((row): SearchHit => {
    const tokens = typeof row.tokens === 'string' ? (JSON.parse(row.tokens) as DebugToken[]) : row.tokens;
    return {
      id: row.id,
      seq: Number(row.seq),
      userId: row.user_id,
      ...(row.user_name === null ? {} : { userName: row.user_name }),
      body: row.message,
      timestamp: new Date(row.timestamp).toISOString(),
      highlights: highlightRanges(row.message, tokens, wanted),
    };
  });
  const last = hits.at(-1);
  return { hits, nextBefore: rows.length > query.limit && last !== undefined ? last.seq : null };
}
