import type { HistoryRange } from '@chat/core';
import { CompiledQuery } from 'kysely';
import type { DeadLetterRow } from './dead-letter-rows.ts';

/**
 * The history statement, built once per shape of range (no cursor, `after`, `before`, both) so a
 * page costs no query building. PostgreSQL formats each message's timestamp as toISOString does, so
 * no Date is parsed and formatted again per row; the session's open dead letters come as rows of
 * their own, since their payload is decoded here. Each text is fixed, so on PostgreSQL it is prepared
 * once per connection under its name (see named-statements.ts) and a page skips the parse and plan;
 * PGlite reads the leading comment as a comment.
 */
export function historyStatement(sessionId: string, range: HistoryRange): CompiledQuery<HistoryStatementRow> {
  return CompiledQuery.raw(PAGE_STATEMENTS[statementKey(range)], pageParameters(sessionId, range));
}

/**
 * The history statement with the session's read cursors as rows of a third kind, so a page and
 * its cursors cost one round trip instead of two.
 */
export function historyWithReadsStatement(sessionId: string, range: HistoryRange): CompiledQuery<HistoryStatementRow> {
  return CompiledQuery.raw(PAGE_WITH_READS_STATEMENTS[statementKey(range)], pageParameters(sessionId, range));
}

function pageParameters(sessionId: string, range: HistoryRange): unknown[] {
  const parameters: unknown[] = [sessionId];
  if (range.after !== undefined) parameters.push(range.after);
  if (range.before !== undefined) parameters.push(range.before);
  // Each side reads one row past the page, so their union still tells whether more exist.
  parameters.push(range.limit + 1);
  return parameters;
}

/**
 * A message row (its columns, the timestamp already as toISOString writes it), an open dead letter
 * (the columns it shares, its payload and first failure) or, in the statement with reads, a read
 * cursor (its user and seq).
 */
export type HistoryStatementRow =
  | { kind: 'message'; id: string; session_id: string; seq: string | number; user_id: string; message: string; iso_timestamp: string; metadata: Record<string, unknown>; client_msg_id: string | null; user_name: string | null }
  | ({ kind: 'dead' } & Pick<DeadLetterRow, 'id' | 'message_id' | 'session_id' | 'seq' | 'payload' | 'first_failed_at'>)
  | { kind: 'read'; user_id: string; seq: string | number };

type StatementKey = 'latest' | 'after' | 'before' | 'between';

function statementKey(range: HistoryRange): StatementKey {
  if (range.after === undefined) return range.before === undefined ? 'latest' : 'before';
  return range.before === undefined ? 'after' : 'between';
}

/** `timestamp` as Date.prototype.toISOString writes it: UTC, milliseconds truncated like the driver's Date. */
const ISO_TIMESTAMP = `to_char(timestamp at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

function statement(key: StatementKey, withReads: boolean): string {
  // `after` catches up from a point, so it reads forwards; otherwise read backwards from the head or `before`.
  const order = key === 'after' || key === 'between' ? 'seq asc' : 'seq desc';
  const bounds = ['session_id = $1'];
  let next = 2;
  if (key === 'after' || key === 'between') bounds.push(`seq > $${next++}`);
  if (key === 'before' || key === 'between') bounds.push(`seq < $${next++}`);
  const limit = `$${next}`;
  const where = bounds.join(' and ');
  const name = withReads ? `history_${key}_reads` : `history_${key}`;
  // Each side is its own limited, ordered read, which the index on (session_id, seq) serves.
  const page = `/* named:${name} */(select 'message' as kind, id, session_id, seq, user_id, message, ${ISO_TIMESTAMP} as iso_timestamp, metadata, client_msg_id, user_name,
    null::uuid as message_id, null::bytea as payload, null::timestamptz as first_failed_at
  from chat_messages where ${where} order by ${order} limit ${limit})
union all
(select 'dead', id, session_id, seq, null, null, null, null, null, null, message_id, payload, first_failed_at
  from chat_dead_letters where ${where} and replayed_at is null and seq is not null order by ${order} limit ${limit})`;
  if (!withReads) return page;
  // The cursors' primary key (session_id, user_id) serves this side; their order is set in the reader.
  return `${page}
union all
(select 'read', null, null, seq, user_id, null, null, null, null, null, null, null, null
  from chat_read_cursors where session_id = $1)`;
}

function statements(withReads: boolean): Record<StatementKey, string> {
  return { latest: statement('latest', withReads), after: statement('after', withReads), before: statement('before', withReads), between: statement('between', withReads) };
}

const PAGE_STATEMENTS = statements(false);
const PAGE_WITH_READS_STATEMENTS = statements(true);
