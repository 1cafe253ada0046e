import { createDatabase } from '@chat/db';
import { GAP_USER_ID } from '@chat/protocol';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@chat/db';
import type { FleetMember, SendRecord } from './fleet.ts';
import { sleep } from './managed-process.ts';

/** What the outside checks found for one fault's traffic (and, for holes and strangers, the whole store). */
export interface Tally {
  /** Sends made during the fault's window (WebSocket and REST). */
  sent: number;
  acked: number;
  /** Of those, sends answered `unavailable` at first (outcome unknown), which the SDK then settled by itself. */
  ackedAfterUnavailable: number;
  /** Sends never acked despite retries until the window settled (the sender knows; not a loss). */
  unacked: number;
  /** Rows in PostgreSQL for the window's sends. */
  stored: number;
  /** Acked, but the acked id is not in PostgreSQL. */
  lost: number;
  /** A (session, user, clientMsgId) stored more than once. */
  doubled: number;
  /** Seqs missing between 1 and a session's head in PostgreSQL. */
  holes: number;
  /** Rows no client sent. */
  strangers: number;
  /** Seqs missing from a client's view between its first welcome and the head. */
  viewHoles: number;
  /** A clientMsgId twice in one client's view, or a view message whose id differs from the store's at that seq. */
  viewDoubled: number;
  viewMismatched: number;
}


/** Reads the system of record and the clients' views, and counts what went wrong. */
export class OutcomeCheck {
  readonly #db: Kysely<Database>;

  constructor(databaseUrl: string) {
    this.#db = createDatabase({ kind: 'postgres', url: databaseUrl, maxConnections: 2, queryTimeoutMs: 20_000 });
  }

  async rows(sessionIds: readonly string[]): Promise<StoredRow[]> {
    const result = await sql<StoredRow>`select id, session_id, seq, user_id, client_msg_id from chat_messages where session_id = any(${sql.val(sessionIds)}::uuid[])`.execute(this.#db);
    return result.rows;
  }

  /** Waits until every acked send's id is in PostgreSQL (the persister caught up), or the timeout. */
  async waitPersisted(sends: Iterable<SendRecord>, sessionIds: readonly string[], timeoutMs: number): Promise<boolean> {
    const wanted = new Set([...sends].flatMap((send) => (send.ack ? [send.ack.id] : [])));
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      try {
        const stored = new Set((await this.rows(sessionIds)).map((row) => row.id));
        if ([...wanted].every((id) => stored.has(id))) return true;
      } catch {
        // PostgreSQL still coming back.
      }
      await sleep(500);
    }
    return false;
  }

  /** Waits until every client's view reaches its session's head in PostgreSQL, or the timeout. */
  async waitViews(views: ViewSource, sessionIds: readonly string[], timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const heads = headsOf(await this.rows(sessionIds));
      if ((await views.lastSeqs()).every((view) => (view.lastSeq ?? 0) >= (heads.get(view.sessionId) ?? 0))) return true;
      await sleep(250);
    }
    return false;
  }

  async tally(phase: number, sends: ReadonlyMap<string, SendRecord>, views: ViewSource, sessionIds: readonly string[]): Promise<Tally> {
    const rows = await this.rows(sessionIds);
    return { ...countSends(phase, [...sends.values()], rows), ...(await views.viewCounts(rows)) };
  }

  close(): Promise<void> {
    return this.#db.destroy();
  }
}

export interface StoredRow {
  id: string;
  session_id: string;
  seq: string;
  user_id: string;
  client_msg_id: string | null;
}

/** What one client holds: the messages of its session after its first welcome. */
export interface ClientView {
  sessionId: string;
  welcomeHead: number | undefined;
  messages: readonly { id: string; seq: number; userId: string; clientMsgId?: string | undefined }[];
}

export type ViewCounts = Pick<Tally, 'viewHoles' | 'viewDoubled' | 'viewMismatched'>;

/**
 * The clients' views, wherever the clients live: how far each has read, and what the checks find
 * in them against the stored rows (each view is checked against its own session's rows alone).
 */
export interface ViewSource {
  lastSeqs(): Promise<readonly { sessionId: string; lastSeq: number | undefined }[]>;
  viewCounts(rows: readonly StoredRow[]): Promise<ViewCounts>;
}

/** The views of clients in this process. */
export function localViews(members: readonly FleetMember[]): ViewSource {
  return {
    lastSeqs: () => Promise.resolve(members.map((member) => ({ sessionId: member.sessionId, lastSeq: member.client.lastSeq }))),
    viewCounts: (rows) => Promise.resolve(viewCounts(members.map(clientView), rows)),
  };
}

export function clientView(member: FleetMember): ClientView {
  return { sessionId: member.sessionId, welcomeHead: member.welcomeHead, messages: member.client.store.getState().messages };
}

/** Compares what was sent and acked with what PostgreSQL and the clients hold. */
export function countOutcome(phase: number, sends: readonly SendRecord[], rows: readonly StoredRow[], views: readonly ClientView[]): Tally {
  return { ...countSends(phase, sends, rows), ...viewCounts(views, rows) };
}

/** The part of the outcome the senders' records and the store tell: every count but the views'. */
export function countSends(phase: number, sends: readonly SendRecord[], rows: readonly StoredRow[]): Omit<Tally, keyof ViewCounts> {
  const window = sends.filter((send) => send.phase === phase);
  const byKey = new Map<string, StoredRow[]>();
  for (const row of rows) {
    const key = `${row.session_id}|${row.user_id}|${row.client_msg_id ?? row.id}`;
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  const keyOf = (send: SendRecord) => `${send.sessionId}|${send.userId}|${send.clientMsgId}`;
  const storedIds = new Map(rows.map((row) => [row.id, row]));
  const sentKeys = new Set(sends.map(keyOf));
  const heads = headsOf(rows);
  const rowsPerSession = new Map<string, number>();
  for (const row of rows) rowsPerSession.set(row.session_id, (rowsPerSession.get(row.session_id) ?? 0) + 1);
  return {
    sent: window.length,
    acked: window.filter((send) => send.ack).length,
    ackedAfterUnavailable: window.filter((send) => send.ack && send.answeredUnavailable).length,
    unacked: window.filter((send) => !send.ack).length,
    stored: window.reduce((sum, send) => sum + (byKey.get(keyOf(send))?.length ?? 0), 0),
    lost: window.filter((send) => send.ack && storedIds.get(send.ack.id)?.seq !== String(send.ack.seq)).length,
    doubled: window.filter((send) => (byKey.get(keyOf(send))?.length ?? 0) > 1).length,
    // seq is unique per session, so the rows short of the head are the missing seqs.
    holes: [...heads].reduce((sum, [sessionId, head]) => sum + head - (rowsPerSession.get(sessionId) ?? 0), 0),
    // A gap record is the system's own seal of a seq whose publish timed out; every other row needs a sender.
    strangers: rows.filter((row) => row.user_id !== GAP_USER_ID && !sentKeys.has(`${row.session_id}|${row.user_id}|${row.client_msg_id ?? row.id}`)).length,
  };
}

function headsOf(rows: readonly StoredRow[]): Map<string, number> {
  const heads = new Map<string, number>();
  for (const row of rows) heads.set(row.session_id, Math.max(heads.get(row.session_id) ?? 0, Number(row.seq)));
  return heads;
}

/** Seqs missing from views, clientMsgIds twice in one view, and view messages that differ from the store. */
export function viewCounts(views: readonly ClientView[], rows: readonly StoredRow[]): ViewCounts {
  const heads = headsOf(rows);
  const bySeq = new Map(rows.map((row) => [`${row.session_id}|${row.seq}`, row]));
  let viewHoles = 0;
  let viewDoubled = 0;
  let viewMismatched = 0;
  for (const view of views) {
    const seen = new Set<number>();
    const clientMsgIds = new Set<string>();
    for (const message of view.messages) {
      seen.add(message.seq);
      if (message.clientMsgId !== undefined) {
        const key = `${message.userId}|${message.clientMsgId}`;
        if (clientMsgIds.has(key)) viewDoubled++;
        clientMsgIds.add(key);
      }
      if (bySeq.get(`${view.sessionId}|${message.seq}`)?.id !== message.id) viewMismatched++;
    }
    const head = heads.get(view.sessionId) ?? 0;
    for (let seq = (view.welcomeHead ?? 0) + 1; seq <= head; seq++) if (!seen.has(seq)) viewHoles++;
  }
  return { viewHoles, viewDoubled, viewMismatched };
}

export function addViewCounts(parts: readonly ViewCounts[]): ViewCounts {
  return {
    viewHoles: parts.reduce((sum, part) => sum + part.viewHoles, 0),
    viewDoubled: parts.reduce((sum, part) => sum + part.viewDoubled, 0),
    viewMismatched: parts.reduce((sum, part) => sum + part.viewMismatched, 0),
  };
}
