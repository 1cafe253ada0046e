import type { HistoryRange, MessageSearchPage, MessageSearchQuery, PageWithReads, ReadCursorMove, SessionListPage, SessionListQuery, WorkspaceStore } from '@chat/core';
import { MAX_UNREAD_COUNT, type AnalysisStatus, type ReadCursor, type SessionSummary } from '@chat/protocol';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { Database } from './database.ts';
import { historyOfRows } from './history-rows.ts';
import { historyWithReadsStatement } from './history-statement.ts';
import { searchMessages } from './kysely-message-search.ts';

/** One row of the session list query; bigint and count come back as strings from pg, numbers from PGlite. */
interface SummaryRow {
  id: string;
  title: string | null;
  members: string[];
  metadata: Record<string, unknown>;
  created_at: Date;
  last_seq: string | number | null;
  last_user_id: string | null;
  last_user_name: string | null;
  last_body: string | null;
  last_ts: Date | null;
  last_kind: string | null;
  read_seq: string | number;
  activity: Date;
  activity_us: string;
  unread: string | number;
  status_state: AnalysisStatus['state'] | null;
  status_progress: number | null;
  status_reason: string | null;
  status_at: Date | null;
}

/**
 * A session's read cursors, ordered by user; seq is a string from pg, a number from PGlite. Fixed, so
 * on PostgreSQL it is prepared once per connection (see named-statements.ts). A history page reads the
 * cursors in its own statement (historyWithReads).
 */
const READ_CURSORS = '/* named:read_cursors */select user_id, seq from chat_read_cursors where session_id = $1 order by user_id';
interface ReadCursorRow {
  user_id: string;
  seq: string | number;
}

/** Read cursors, analysis status and the session list, on PostgreSQL or PGlite. */
export class KyselyWorkspaceStore implements WorkspaceStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async moveReadCursor(sessionId: string, userId: string, seq: number): Promise<ReadCursorMove> {
    // The upsert only writes when it moves forward, so racing marks can never move it back.
    const moved =
      seq === 0
        ? undefined
        : await this.#db
            .insertInto('chat_read_cursors')
            .values({ session_id: sessionId, user_id: userId, seq })
            .onConflict((conflict) =>
              conflict
                .columns(['session_id', 'user_id'])
                .doUpdateSet({ seq: (eb) => eb.ref('excluded.seq'), updated_at: sql<string>`now()` })
                .where('chat_read_cursors.seq', '<', (eb) => eb.ref('excluded.seq')),
            )
            .returning('seq')
            .executeTakeFirst();
    if (moved !== undefined) return { status: 'moved', seq: Number(moved.seq) };
    const current = await this.#db
      .selectFrom('chat_read_cursors')
      .select('seq')
      .where('session_id', '=', sessionId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    const at = current === undefined ? 0 : Number(current.seq);
    return at === seq ? { status: 'unchanged', seq } : { status: 'behind', current: at };
  }

  async readCursors(sessionId: string): Promise<ReadCursor[]> {
    const { rows } = await this.#db.executeQuery<ReadCursorRow>(CompiledQuery.raw(READ_CURSORS, [sessionId]));
    return rows.map((row) => ({ userId: row.user_id, seq: Number(row.seq) }));
  }

  async historyWithReads(sessionId: string, range: HistoryRange): Promise<PageWithReads> {
    const { rows } = await this.#db.executeQuery(historyWithReadsStatement(sessionId, range));
    return historyOfRows(rows, range);
  }

  async listSessions(query: SessionListQuery): Promise<SessionListPage> {
    const membership = query.everySession ? sql`true` : sql`s.members @> array[${query.userId}]::uuid[]`;
    const analysis = query.analysisId === undefined ? sql`true` : sql`s.metadata ->> 'analysisId' = ${query.analysisId}`;
    const after = query.after === undefined ? sql`true` : sql`(base.activity_us, base.id) < (${query.after.activityMicros}::bigint, ${query.after.id}::uuid)`;
    const { rows } = await sql<SummaryRow>`
      with base as (
        select s.id, s.title, s.members, s.metadata, s.created_at,
          m.seq as last_seq, m.user_id as last_user_id, m.user_name as last_user_name, m.message as last_body,
          m.timestamp as last_ts, m.metadata ->> 'kind' as last_kind,
          coalesce(c.seq, 0) as read_seq,
          greatest(s.created_at, coalesce(m.timestamp, s.created_at)) as activity,
          (extract(epoch from greatest(s.created_at, coalesce(m.timestamp, s.created_at))) * 1000000)::bigint as activity_us
        from chat_sessions s
        left join lateral (
          select seq, user_id, user_name, message, timestamp, metadata from chat_messages where session_id = s.id order by seq desc limit 1
        ) m on true
        left join chat_read_cursors c on c.session_id = s.id and c.user_id = ${query.userId}
        where s.closed_at is null and ${membership} and ${analysis}
      )
      select base.*, base.activity_us::text as activity_us,
        (select count(*) from (
          select 1 from chat_messages u where u.session_id = base.id and u.seq > base.read_seq and u.user_id <> ${query.userId} limit ${MAX_UNREAD_COUNT}
        ) as counted) as unread,
        st.state as status_state, st.progress as status_progress, st.reason as status_reason, st.updated_at as status_at
      from base
      left join chat_analysis_status st on st.session_id = base.id
      where ${after}
      order by base.activity_us desc, base.id desc
      limit ${query.limit + 1}`.execute(this.#db);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      sessions: page.map(toSummary),
      next: rows.length > query.limit && last !== undefined ? { activityMicros: last.activity_us, id: last.id } : null,
    };
  }

  async setAnalysisStatus(status: AnalysisStatus): Promise<void> {
    const values = { state: status.state, progress: status.progress ?? null, reason: status.reason ?? null, updated_at: status.updatedAt };
    await this.#db
      .insertInto('chat_analysis_status')
      .values({ session_id: status.sessionId, ...values })
      .onConflict((conflict) => conflict.column('session_id').doUpdateSet(values))
      .execute();
  }

  async analysisStatus(sessionId: string): Promise<AnalysisStatus | null> {
    const row = await this.#db.selectFrom('chat_analysis_status').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
    if (row === undefined) return null;
    return toStatus(sessionId, row.state, row.progress, row.reason, row.updated_at);
  }

  searchMessages(query: MessageSearchQuery): Promise<MessageSearchPage> {
    return searchMessages(this.#db, query);
  }
}

function toStatus(sessionId: string, state: AnalysisStatus['state'], progress: number | null, reason: string | null, at: Date): AnalysisStatus {
  return {
    sessionId,
    state,
    ...(progress === null ? {} : { progress }),
    ...(reason === null ? {} : { reason }),
    updatedAt: at.toISOString(),
  };
}

function toSummary(row: SummaryRow): SessionSummary {
  const analysisId = row.metadata['analysisId'];
  return {
    id: row.id,
    title: row.title,
    analysisId: typeof analysisId === 'string' || typeof analysisId === 'number' ? String(analysisId) : null,
    members: row.members,
    createdAt: row.created_at.toISOString(),
    lastActivityAt: row.activity.toISOString(),
    lastMessage:
      row.last_seq === null || row.last_user_id === null || row.last_ts === null
        ? null
        : {
            seq: Number(row.last_seq),
            userId: row.last_user_id,
            ...(row.last_user_name === null ? {} : { userName: row.last_user_name }),
            body: row.last_body ?? '',
            timestamp: row.last_ts.toISOString(),
            ...(row.last_kind === null ? {} : { kind: row.last_kind }),
          },
    readSeq: Number(row.read_seq),
    unread: Number(row.unread),
    analysisStatus: row.status_state === null || row.status_at === null ? null : toStatus(row.id, row.status_state, row.status_progress, row.status_reason, row.status_at),
  };
}
