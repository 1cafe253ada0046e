import type { HistoryRange } from '@chat/core';
import type { ChatMessage } from '@chat/protocol';
import { CompiledQuery } from 'kysely';
import type { DeadLetterRow } from './dead-letter-rows.ts';

/**
 * The history statement, built once per shape of range (no cursor, `after`, `before`, both) so a
 * page costs no query building. PostgreSQL returns the page's messages as one JSON array already in
 * the ChatMessage shape, so the driver parses one value instead of nine typed columns per row; the
 * session's open dead letters come as rows of their own, since their payload is decoded here.
 */
export function historyStatement(sessionId: string, range: HistoryRange): CompiledQuery<HistoryStatementRow> {
  const shape = STATEMENTS[statementKey(range)];
  const parameters: unknown[] = [sessionId];
  if (range.after !== undefined) parameters.push(range.after);
  if (range.before !== undefined) parameters.push(range.before);
  // Each side reads one row past the page, so their union still tells whether more exist.
  parameters.push(range.limit + 1);
  return CompiledQuery.raw(shape, parameters);
}

/**
 * One row holds `messages`: the message rows read, ascending by seq, each with exactly the fields
 * and field order of the row mapping (userName and clientMsgId only when not null). Each other row
 * is an open dead letter.
 */
export type HistoryStatementRow = { dead: false; messages: ChatMessage[] } | ({ dead: true } & Pick<DeadLetterRow, 'id' | 'message_id' | 'session_id' | 'seq' | 'payload' | 'first_failed_at'>);

type StatementKey = 'latest' | 'after' | 'before' | 'between';

function statementKey(range: HistoryRange): StatementKey {
  if (range.after === undefined) return range.before === undefined ? 'latest' : 'before';
  return range.before === undefined ? 'after' : 'between';
}

/** `timestamp` as Date.prototype.toISOString writes it: UTC, milliseconds truncated like the driver's Date. */
const ISO_TIMESTAMP = `to_char(timestamp at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** json_build_object for a message row; the optional fields are present only when not null. */
function messageObject(withName: boolean, withClientMsgId: boolean): string {
  const fields = [
    `'type', 'message'`,
    `'id', id`,
    `'sessionId', session_id`,
    `'seq', seq`,
    `'userId', user_id`,
    ...(withName ? [`'userName', user_name`] : []),
    `'body', message`,
    `'metadata', metadata`,
    `'timestamp', ${ISO_TIMESTAMP}`,
    ...(withClientMsgId ? [`'clientMsgId', client_msg_id`] : []),
  ];
  return `json_build_object(${fields.join(', ')})`;
}

const MESSAGE_JSON = `case
  when user_name is null then (case when client_msg_id is null then ${messageObject(false, false)} else ${messageObject(false, true)} end)
  else (case when client_msg_id is null then ${messageObject(true, false)} else ${messageObject(true, true)} end)
end`;

function statement(key: StatementKey): string {
  // `after` catches up from a point, so it reads forwards; otherwise read backwards from the head or `before`.
  const order = key === 'after' || key === 'between' ? 'seq asc' : 'seq desc';
  const bounds = ['session_id = $1'];
  let next = 2;
  if (key === 'after' || key === 'between') bounds.push(`seq > $${next++}`);
  if (key === 'before' || key === 'between') bounds.push(`seq < $${next++}`);
  const limit = `$${next}`;
  const where = bounds.join(' and ');
  // Each side is its own limited, ordered read, which the index on (session_id, seq) serves.
  return `select false as dead, coalesce(json_agg(${MESSAGE_JSON} order by seq), '[]'::json) as messages,
    null::uuid as id, null::uuid as message_id, null::uuid as session_id, null::bigint as seq, null::bytea as payload, null::timestamptz as first_failed_at
  from (select id, session_id, seq, user_id, message, timestamp, metadata, client_msg_id, user_name
    from chat_messages where ${where} order by ${order} limit ${limit}) as page
union all
(select true, null, id, message_id, session_id, seq, payload, first_failed_at
  from chat_dead_letters where ${where} and replayed_at is null and seq is not null order by ${order} limit ${limit})`;
}

const STATEMENTS: Record<StatementKey, string> = {
  latest: statement('latest'),
  after: statement('after'),
  before: statement('before'),
  between: statement('between'),
};
