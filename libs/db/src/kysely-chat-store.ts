import type { ChatStore, HistoryPage, HistoryRange, NewSession, SessionChanges, SessionRecord } from '@chat/core';
import type { ChatMessage } from '@chat/protocol';
import { CompiledQuery, sql, type Kysely, type Selectable } from 'kysely';
import { MESSAGE_COLUMNS, type ChatSessionsTable, type Database } from './database.ts';
import { sqlState } from './row-refusal.ts';
import { historyOfRows, toMessage } from './history-rows.ts';
import { historyStatement } from './history-statement.ts';

/** Bounds the size of one statement; larger batches are split inside one transaction. */
const MAX_ROWS_PER_INSERT = 5_000;

/** The system of record over Kysely: PostgreSQL in production, PGlite in the embedded mode. */
export class KyselyChatStore implements ChatStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async createSession(session: NewSession): Promise<SessionRecord> {
    const row = await this.#db
      .insertInto('chat_sessions')
      .values({
        id: session.id,
        title: session.title,
        members: [...new Set(session.members)],
        metadata: JSON.stringify(session.metadata),
        created_at: session.createdAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSession(row);
  }

  async getSession(sessionId: string): Promise<SessionRecord | null> {
    const row = await this.#db.selectFrom('chat_sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
    return row === undefined ? null : toSession(row);
  }

  async addMembers(sessionId: string, userIds: readonly string[]): Promise<SessionRecord | null> {
    // One statement, so concurrent additions cannot lose each other; keeps the order of first appearance.
    const fresh = sql<string[]>`array(
      select u from unnest(${[...userIds]}::uuid[]) with ordinality as t(u, i)
      where u <> all(chat_sessions.members) group by u order by min(i))`;
    const row = await this.#db
      .updateTable('chat_sessions')
      .set({ members: sql<string[]>`members || ${fresh}` })
      .where('id', '=', sessionId)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? null : toSession(row);
  }

  async removeMember(sessionId: string, userId: string): Promise<SessionRecord | null> {
    // One statement, so a concurrent addition or removal is never lost.
    const row = await this.#db
      .updateTable('chat_sessions')
      .set({ members: sql<string[]>`array_remove(members, ${userId}::uuid)` })
      .where('id', '=', sessionId)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? null : toSession(row);
  }

  async updateSession(sessionId: string, changes: SessionChanges): Promise<SessionRecord | null> {
    if (changes.title === undefined && changes.metadata === undefined) return this.getSession(sessionId);
    const row = await this.#db
      .updateTable('chat_sessions')
      .set({
        ...(changes.title === undefined ? {} : { title: changes.title }),
        ...(changes.metadata === undefined ? {} : { metadata: JSON.stringify(changes.metadata) }),
      })
      .where('id', '=', sessionId)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? null : toSession(row);
  }

  async closeSession(sessionId: string, closedAt: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('chat_sessions')
      .set({ closed_at: closedAt })
      .where('id', '=', sessionId)
      .where('closed_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * The page from chat_messages joined with the session's open dead letters (see historyOfRows).
   * One statement, so a page costs one round trip.
   */
  async history(sessionId: string, range: HistoryRange): Promise<HistoryPage> {
    const { rows } = await this.#db.executeQuery(historyStatement(sessionId, range));
    return historyOfRows(rows, range).page;
  }

  /** The highest seq the store knows, dead letters included: a reloaded session must never reuse a dead letter's seq. */
  async maxSeq(sessionId: string): Promise<number> {
    const [row, dead] = await Promise.all([
      this.#db
        .selectFrom('chat_messages')
        .select((eb) => eb.fn.max('seq').as('max'))
        .where('session_id', '=', sessionId)
        .executeTakeFirst(),
      this.#db
        .selectFrom('chat_dead_letters')
        .select((eb) => eb.fn.max('seq').as('max'))
        .where('session_id', '=', sessionId)
        .executeTakeFirst(),
    ]);
    return Math.max(row?.max == null ? 0 : Number(row.max), dead?.max == null ? 0 : Number(dead.max));
  }

  async findSent(sessionId: string, userId: string, clientMsgId: string): Promise<ChatMessage | null> {
    const row = await this.#db
      .selectFrom('chat_messages')
      .select(MESSAGE_COLUMNS)
      .where('session_id', '=', sessionId)
      .where('user_id', '=', userId)
      .where('client_msg_id', '=', clientMsgId)
      .executeTakeFirst();
    return row === undefined ? null : toMessage(row, row.timestamp.toISOString());
  }

  /**
   * Writes the rows that are new. Nearly every batch is new, so it is first written as a plain
   * insert, which PostgreSQL does without the conflict check that ON CONFLICT adds per row and
   * unique index (a fifth of its CPU per row at 50 rows a statement); a repeated row (a redelivery,
   * a resend) fails that whole insert with a unique violation, having written nothing, and the batch
   * goes again skipping what is stored.
   */
  async insertMessages(messages: readonly ChatMessage[]): Promise<number> {
    if (messages.length === 0) return 0;
    try {
      return await this.#insert(messages, INSERT_NEW_ROWS);
    } catch (error) {
      if (sqlState(error) !== UNIQUE_VIOLATION) throw error;
      return this.#insert(messages, INSERT_ROWS);
    }
  }

  async #insert(messages: readonly ChatMessage[], statement: string): Promise<number> {
    if (messages.length <= MAX_ROWS_PER_INSERT) return runInsert(this.#db, statement, messages);
    // Too many rows for one statement: several, in one transaction, so the batch still lands whole.
    return this.#db.transaction().execute(async (tx) => {
      let inserted = 0;
      for (let start = 0; start < messages.length; start += MAX_ROWS_PER_INSERT) inserted += await runInsert(tx, statement, messages.slice(start, start + MAX_ROWS_PER_INSERT));
      return inserted;
    });
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }
}

const UNIQUE_VIOLATION = '23505';

/**
 * Rows travel as one JSON array (one parameter, one fixed statement whatever the batch size),
 * which costs one native JSON.stringify here, where one text array per column made the driver
 * quote every value of every row; PostgreSQL reads it with json_to_recordset as fast as the arrays.
 * Each text is fixed, so it is compiled once and, on PostgreSQL, prepared once per connection under
 * its name (see named-statements.ts); PGlite reads the leading comment as a comment.
 */
const ROWS_FROM_JSON = `
    insert into chat_messages (id, session_id, seq, user_id, message, timestamp, metadata, client_msg_id, user_name)
    select id, "sessionId", seq, "userId", body, timestamp, metadata, "clientMsgId", "userName"
    from json_to_recordset($1::json)
      as rows(id uuid, "sessionId" uuid, seq bigint, "userId" uuid, body text, timestamp timestamptz, metadata jsonb, "clientMsgId" text, "userName" text)`;

/** Fails with a unique violation, writing nothing, when any row is stored already. */
const INSERT_NEW_ROWS = `/* named:chat_insert_new_rows */${ROWS_FROM_JSON}`;

/**
 * With no conflict target, a repeated id, a repeated (session_id, seq) and a repeated
 * (session_id, user_id, client_msg_id) are all skipped: the message is stored already.
 */
const INSERT_ROWS = `/* named:chat_insert_rows */${ROWS_FROM_JSON}
    on conflict do nothing`;

/** One multi-row insert that skips the rows stored already; the number written. */
export function insertRows(db: Kysely<Database>, messages: readonly ChatMessage[]): Promise<number> {
  return runInsert(db, INSERT_ROWS, messages);
}

async function runInsert(db: Kysely<Database>, statement: string, messages: readonly ChatMessage[]): Promise<number> {
  const result = await db.executeQuery(CompiledQuery.raw(statement, [JSON.stringify(messages)]));
  return Number(result.numAffectedRows ?? 0n);
}

function toSession(row: Selectable<ChatSessionsTable>): SessionRecord {
  return {
    id: row.id,
    title: row.title,
    members: row.members,
    metadata: row.metadata,
    createdAt: row.created_at.toISOString(),
    closedAt: row.closed_at === null ? null : row.closed_at.toISOString(),
  };
}
