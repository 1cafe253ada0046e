import type { DeadLetter, DeadLetterQuery, DeadLetterStore, NewDeadLetter, ReplayOutcome } from '@chat/core';
import { decodeQueuedMessage } from '@chat/protocol';
import { sql, type Kysely } from 'kysely';
import type { Database } from './database.ts';
import { deadLetterId, storableText, toDeadLetter } from './dead-letter-rows.ts';
import { insertRows } from './kysely-chat-store.ts';
import { isRowRefusal, sqlState } from './row-refusal.ts';

/** chat_dead_letters over Kysely, beside chat_messages in the same database (PostgreSQL or PGlite). */
export class KyselyDeadLetterStore implements DeadLetterStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async add(entry: NewDeadLetter): Promise<void> {
    const error = storableText(entry.error);
    await this.#db
      .insertInto('chat_dead_letters')
      .values({
        id: deadLetterId(entry.payload, entry.messageId),
        message_id: entry.messageId ?? null,
        session_id: entry.sessionId ?? null,
        seq: entry.seq ?? null,
        payload: entry.payload,
        reason: entry.reason,
        error,
        error_code: entry.errorCode ?? null,
        attempts: entry.attempts,
        first_failed_at: entry.failedAt,
        last_failed_at: entry.failedAt,
      })
      // Delivered again after a crash, or refused again after a replay: one dead letter, brought up to date.
      .onConflict((conflict) =>
        conflict.column('id').doUpdateSet({
          error,
          error_code: entry.errorCode ?? null,
          attempts: sql<number>`greatest(chat_dead_letters.attempts, excluded.attempts)`,
          last_failed_at: entry.failedAt,
          replayed_at: null,
        }),
      )
      .execute();
  }

  async list(query: DeadLetterQuery): Promise<DeadLetter[]> {
    let select = this.#db.selectFrom('chat_dead_letters').selectAll().orderBy('first_failed_at', 'desc').orderBy('id').limit(query.limit);
    if (query.sessionId !== undefined) select = select.where('session_id', '=', query.sessionId);
    if (!query.includeReplayed) select = select.where('replayed_at', 'is', null);
    return (await select.execute()).map(toDeadLetter);
  }

  async get(id: string): Promise<DeadLetter | null> {
    const row = await this.#db.selectFrom('chat_dead_letters').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : toDeadLetter(row);
  }

  async replay(id: string, now: string): Promise<ReplayOutcome> {
    try {
      return await this.#db.transaction().execute(async (tx) => {
        const row = await tx.selectFrom('chat_dead_letters').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
        if (row === undefined) return { status: 'not_found' };
        const decoded = decodeQueuedMessage(new Uint8Array(row.payload));
        if (!decoded.ok) return { status: 'unreadable', deadLetter: toDeadLetter(row) };
        const { message } = decoded;
        const inserted = (await insertRows(tx, [message])) === 1;
        const written = await tx.selectFrom('chat_messages').select('id').where('id', '=', message.id).executeTakeFirst();
        if (written === undefined) {
          const error = `seq ${message.seq} of session ${message.sessionId} is held by another message`;
          return { status: 'refused', deadLetter: toDeadLetter(row), error };
        }
        const updated = await tx
          .updateTable('chat_dead_letters')
          .set({ replayed_at: sql<string>`coalesce(replayed_at, ${now}::timestamptz)` })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return { status: 'replayed', deadLetter: toDeadLetter(updated), message, inserted };
      });
    } catch (error) {
      if (!isRowRefusal(error)) throw error;
      // Still refused: keep the newest error on the dead letter, outside the aborted transaction.
      const message = storableText(error instanceof Error ? error.message : String(error));
      const code = sqlState(error) ?? null;
      const row = await this.#db
        .updateTable('chat_dead_letters')
        .set({ error: message, error_code: code, last_failed_at: now })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? { status: 'not_found' } : { status: 'refused', deadLetter: toDeadLetter(row), error: message };
    }
  }

  async countOpen(): Promise<number> {
    const row = await this.#db
      .selectFrom('chat_dead_letters')
      .select((eb) => eb.fn.countAll<string | number>().as('count'))
      .where('replayed_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }
}
