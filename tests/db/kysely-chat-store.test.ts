import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createDatabase, KyselyChatStore, KyselyWorkspaceStore } from '@chat/db';
import type { ChatMessage } from '@chat/protocol';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@chat/db';
import { chatMessage as message } from '../support/chat-messages.ts';
import { backends, TEST_DATABASE_URL } from './backends.ts';

function seqs(messages: readonly ChatMessage[]): number[] {
  return messages.map((item) => item.seq);
}

async function sessionWith(store: KyselyChatStore, count: number): Promise<string> {
  const sessionId = randomUUID();
  await store.insertMessages(Array.from({ length: count }, (_, index) => message(sessionId, index + 1)));
  return sessionId;
}

for (const backend of await backends()) {
  (backend.available ? describe : describe.skip)(`KyselyChatStore on ${backend.name}`, () => {
    let store: KyselyChatStore;
    let workspace: KyselyWorkspaceStore;
    let db: Kysely<Database>;

    beforeAll(async () => {
      db = await backend.open();
      store = new KyselyChatStore(db);
      workspace = new KyselyWorkspaceStore(db);
    });

    /** A dead letter of `payload` at `seq`, open unless `replayed`. */
    async function deadLetter(sessionId: string, seq: number, payload: string, replayed = false): Promise<void> {
      await db
        .insertInto('chat_dead_letters')
        .values({
          id: randomUUID(),
          message_id: null,
          session_id: sessionId,
          seq,
          payload: new TextEncoder().encode(payload),
          reason: 'refused',
          error: 'refused',
          error_code: null,
          attempts: 1,
          first_failed_at: new Date(Date.UTC(2026, 0, 2)).toISOString(),
          last_failed_at: new Date(Date.UTC(2026, 0, 2)).toISOString(),
          replayed_at: replayed ? new Date(Date.UTC(2026, 0, 3)).toISOString() : null,
        })
        .execute();
    }

    afterAll(async () => {
      await store.close();
    });

    describe('sessions', () => {
      it('creates a session and reads it back with its members, metadata and times', async () => {
        const members = [randomUUID(), randomUUID()];
        const id = randomUUID();
        const created = await store.createSession({ id, title: 'Q3 review', members, metadata: { desk: 'fx' }, createdAt: '2026-01-02T03:04:05.678Z' });
        const expected = { id, title: 'Q3 review', members, metadata: { desk: 'fx' }, createdAt: '2026-01-02T03:04:05.678Z', closedAt: null };
        expect(created).toEqual(expected);
        expect(await store.getSession(id)).toEqual(expected);
      });

      it('keeps a session without a title and drops repeated members', async () => {
        const user = randomUUID();
        const created = await store.createSession({ id: randomUUID(), title: null, members: [user, user], metadata: {}, createdAt: new Date().toISOString() });
        expect(created.title).toBeNull();
        expect(created.members).toEqual([user]);
      });

      it('answers null for a session that does not exist', async () => {
        expect(await store.getSession(randomUUID())).toBeNull();
      });

      it('adds only members that are not in yet, in the order given', async () => {
        const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
        const id = randomUUID();
        await store.createSession({ id, title: null, members: [a], metadata: {}, createdAt: new Date().toISOString() });
        const updated = await store.addMembers(id, [c, a, b, c]);
        expect(updated?.members).toEqual([a, c, b]);
        expect((await store.getSession(id))?.members).toEqual([a, c, b]);
      });

      it('does not lose members added concurrently', async () => {
        const id = randomUUID();
        await store.createSession({ id, title: null, members: [], metadata: {}, createdAt: new Date().toISOString() });
        const users = Array.from({ length: 10 }, () => randomUUID());
        await Promise.all(users.map((user) => store.addMembers(id, [user])));
        expect(new Set((await store.getSession(id))?.members)).toEqual(new Set(users));
      });

      it('answers null when adding members to an unknown session', async () => {
        expect(await store.addMembers(randomUUID(), [randomUUID()])).toBeNull();
      });

      it('closes a session once and records when', async () => {
        const id = randomUUID();
        await store.createSession({ id, title: null, members: [], metadata: {}, createdAt: new Date().toISOString() });
        expect(await store.closeSession(id, '2026-05-06T07:08:09.000Z')).toBe(true);
        expect(await store.closeSession(id, '2026-05-07T00:00:00.000Z')).toBe(false);
        expect((await store.getSession(id))?.closedAt).toBe('2026-05-06T07:08:09.000Z');
        expect(await store.closeSession(randomUUID(), new Date().toISOString())).toBe(false);
      });
    });

    describe('messages', () => {
      it('stores a message and returns it in the protocol shape', async () => {
        const sessionId = randomUUID();
        const full = message(sessionId, 1, { userName: 'Ada', clientMsgId: 'c-1', metadata: { kind: 'analysis', score: 0.5, tags: ['a'] }, body: 'héllo 👋' });
        const bare = message(sessionId, 2);
        expect(await store.insertMessages([full, bare])).toBe(2);
        const page = await store.history(sessionId, { limit: 10 });
        expect(page.messages).toEqual([full, bare]);
        expect(page.messages[1]).not.toHaveProperty('userName');
        expect(page.messages[1]).not.toHaveProperty('clientMsgId');
      });

      it('counts only new rows when a batch repeats an id or a (session, seq)', async () => {
        const sessionId = randomUUID();
        const first = message(sessionId, 1);
        expect(await store.insertMessages([first])).toBe(1);
        const sameId = { ...first };
        const sameSeq = message(sessionId, 1);
        const fresh = message(sessionId, 2);
        expect(await store.insertMessages([sameId, sameSeq, fresh])).toBe(1);
        expect((await store.history(sessionId, { limit: 10 })).messages).toEqual([first, fresh]);
      });

      it('writes a batch that repeats a row of its own once, and skips stored rows in a batch larger than one statement', async () => {
        const sessionId = randomUUID();
        const twice = message(sessionId, 1);
        expect(await store.insertMessages([twice, message(sessionId, 2), { ...twice }])).toBe(2);
        const large = Array.from({ length: 6_000 }, (_, index) => message(sessionId, index + 1));
        const stored = [twice, ...(await store.history(sessionId, { limit: 10 })).messages.slice(1)];
        expect(await store.insertMessages([...stored, ...large.slice(2)])).toBe(5_998);
        expect(await store.maxSeq(sessionId)).toBe(6_000);
        expect((await store.history(sessionId, { limit: 2, after: 0 })).messages).toEqual(stored);
      }, 60_000);

      it('treats a second row with the same (session, user, clientMsgId) as stored already', async () => {
        const sessionId = randomUUID();
        const userId = randomUUID();
        const first = message(sessionId, 1, { userId, clientMsgId: 'resent' });
        expect(await store.insertMessages([first])).toBe(1);
        const resent = message(sessionId, 2, { userId, clientMsgId: 'resent' });
        const otherUser = message(sessionId, 3, { clientMsgId: 'resent' });
        const otherSession = message(randomUUID(), 1, { userId, clientMsgId: 'resent' });
        const withoutKey = [message(sessionId, 4, { userId }), message(sessionId, 5, { userId })];
        expect(await store.insertMessages([resent, otherUser, otherSession, ...withoutKey])).toBe(4);
        expect((await store.history(sessionId, { limit: 10 })).messages.map((m) => m.id)).toEqual([first.id, otherUser.id, ...withoutKey.map((m) => m.id)]);
      });

      it('finds the message a user sent with a clientMsgId, and nothing for another user or key', async () => {
        const sessionId = randomUUID();
        const userId = randomUUID();
        const sent = message(sessionId, 1, { userId, clientMsgId: 'c-9', userName: 'Ada' });
        await store.insertMessages([sent, message(sessionId, 2, { userId })]);
        expect(await store.findSent(sessionId, userId, 'c-9')).toEqual(sent);
        expect(await store.findSent(sessionId, randomUUID(), 'c-9')).toBeNull();
        expect(await store.findSent(sessionId, userId, 'c-10')).toBeNull();
        expect(await store.findSent(randomUUID(), userId, 'c-9')).toBeNull();
      });

      it('inserts nothing for an empty batch', async () => {
        expect(await store.insertMessages([])).toBe(0);
      });

      it('writes a batch larger than one statement can carry', async () => {
        const sessionId = await sessionWith(store, 6_000);
        expect(await store.maxSeq(sessionId)).toBe(6_000);
        expect((await store.history(sessionId, { limit: 500, after: 5_990 })).messages).toHaveLength(10);
      }, 60_000);

      // Prepared statements are the pg driver's; PGlite runs the same text as an ordinary statement.
      if (backend.name === 'PostgreSQL') it('prepares the insert once per connection under its name and reuses it for every batch size', async () => {
        const single = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
        try {
          const oneConnection = new KyselyChatStore(single);
          const sessionId = randomUUID();
          expect(await oneConnection.insertMessages([message(sessionId, 1)])).toBe(1);
          expect(await oneConnection.insertMessages([message(sessionId, 1), message(sessionId, 2), message(sessionId, 3)])).toBe(2);
          const prepared = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(single);
          // The first batch went in as new rows; the second repeated one and went again skipping it.
          expect(prepared.rows.map((row) => row.name).sort()).toEqual(['chat_insert_new_rows', 'chat_insert_rows']);
          expect(prepared.rows.every((row) => row.statement.includes('insert into chat_messages'))).toBe(true);
          expect(seqs((await oneConnection.history(sessionId, { limit: 10 })).messages)).toEqual([1, 2, 3]);
        } finally {
          await single.destroy();
        }
      });

      if (backend.name === 'PostgreSQL') it('prepares each page-with-reads shape once per connection under its own name', async () => {
        const single = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
        try {
          const oneConnection = new KyselyWorkspaceStore(single);
          const sessionId = await sessionWith(store, 3);
          for (const range of [{ limit: 2 }, { limit: 2, after: 1 }, { limit: 2, before: 3 }, { limit: 2, after: 0, before: 3 }, { limit: 2 }]) {
            expect((await oneConnection.historyWithReads(sessionId, range)).page).toStrictEqual(await store.history(sessionId, range));
          }
          const prepared = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(single);
          expect(prepared.rows.map((row) => row.name).sort()).toEqual(['history_after_reads', 'history_before_reads', 'history_between_reads', 'history_latest_reads']);
        } finally {
          await single.destroy();
        }
      });

      it('reports the highest seq of a session, or 0 when it has none', async () => {
        const sessionId = randomUUID();
        expect(await store.maxSeq(sessionId)).toBe(0);
        await store.insertMessages([message(sessionId, 3), message(sessionId, 11), message(sessionId, 7)]);
        expect(await store.maxSeq(sessionId)).toBe(11);
      });
    });

    describe('history', () => {
      it('returns the latest messages in ascending order when no cursor is given', async () => {
        const sessionId = await sessionWith(store, 10);
        const page = await store.history(sessionId, { limit: 3 });
        expect(seqs(page.messages)).toEqual([8, 9, 10]);
        expect(page.hasMore).toBe(true);
      });

      it('says there is no more when the page holds the whole session', async () => {
        const sessionId = await sessionWith(store, 3);
        const page = await store.history(sessionId, { limit: 3 });
        expect(seqs(page.messages)).toEqual([1, 2, 3]);
        expect(page.hasMore).toBe(false);
      });

      it('scrolls back with before: the latest messages below the cursor', async () => {
        const sessionId = await sessionWith(store, 10);
        const page = await store.history(sessionId, { limit: 3, before: 8 });
        expect(seqs(page.messages)).toEqual([5, 6, 7]);
        expect(page.hasMore).toBe(true);
        const oldest = await store.history(sessionId, { limit: 3, before: 4 });
        expect(seqs(oldest.messages)).toEqual([1, 2, 3]);
        expect(oldest.hasMore).toBe(false);
      });

      it('catches up with after: the earliest messages above the cursor', async () => {
        const sessionId = await sessionWith(store, 10);
        const page = await store.history(sessionId, { limit: 3, after: 2 });
        expect(seqs(page.messages)).toEqual([3, 4, 5]);
        expect(page.hasMore).toBe(true);
        const newest = await store.history(sessionId, { limit: 3, after: 7 });
        expect(seqs(newest.messages)).toEqual([8, 9, 10]);
        expect(newest.hasMore).toBe(false);
      });

      it('reads forwards between both cursors when before and after are given', async () => {
        const sessionId = await sessionWith(store, 10);
        const page = await store.history(sessionId, { limit: 3, after: 2, before: 5 });
        expect(seqs(page.messages)).toEqual([3, 4]);
        expect(page.hasMore).toBe(false);
      });

      it('joins the open dead letters into the page, a stored row winning over one with the same seq', async () => {
        const sessionId = randomUUID();
        const rows = [1, 2, 4, 5, 8].map((seq) => message(sessionId, seq));
        await store.insertMessages(rows);
        const refused = message(sessionId, 3, { body: 'refused' });
        await deadLetter(sessionId, 3, JSON.stringify(refused));
        await deadLetter(sessionId, 4, JSON.stringify(message(sessionId, 4, { body: 'shadowed' })));
        await deadLetter(sessionId, 6, 'not json');
        await deadLetter(sessionId, 7, JSON.stringify(message(sessionId, 7)), true);
        const latest = await store.history(sessionId, { limit: 5 });
        expect(latest.messages.map((m) => [m.seq, m.state ?? 'stored', m.body])).toEqual([
          [3, 'dead_letter', 'refused'],
          [4, 'stored', 'message 4'],
          [5, 'stored', 'message 5'],
          [6, 'dead_letter', ''],
          [8, 'stored', 'message 8'],
        ]);
        expect(latest.messages[0]).toEqual({ ...refused, state: 'dead_letter' });
        expect(latest.messages[3]).toMatchObject({ sessionId, userId: '00000000-0000-0000-0000-000000000000', timestamp: '2026-01-02T00:00:00.000Z' });
        expect(latest.messages[4]).toEqual(rows[4]);
        expect(latest.hasMore).toBe(true);
        const back = await store.history(sessionId, { limit: 2, before: 4 });
        expect(back).toEqual({ messages: [rows[1], { ...refused, state: 'dead_letter' }], hasMore: true });
        const forwards = await store.history(sessionId, { limit: 3, after: 4 });
        expect(seqs(forwards.messages)).toEqual([5, 6, 8]);
        expect(forwards.hasMore).toBe(false);
        // The page read with the cursors is the same page.
        for (const range of [{ limit: 5 }, { limit: 2, before: 4 }, { limit: 3, after: 4 }, { limit: 2, after: 1, before: 7 }]) {
          expect([range, await workspace.historyWithReads(sessionId, range)]).toStrictEqual([range, { page: await store.history(sessionId, range), reads: [] }]);
        }
      });

      it('returns an empty page for a session without messages', async () => {
        expect(await store.history(randomUUID(), { limit: 50 })).toEqual({ messages: [], hasMore: false });
      });

      it('reads any page of any stored messages as the model of the store says, field for field', async () => {
        // Text PostgreSQL can store: no NUL (and the generator makes no lone surrogates).
        const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((value) => !value.includes('\u0000'));
        const json = fc.jsonValue({ maxDepth: 2 }).filter((value) => !JSON.stringify(value).includes('\\u0000'));
        const stored = fc.record(
          {
            userName: text,
            clientMsgId: fc.string({ minLength: 1, maxLength: 8 }).filter((value) => !value.includes('\u0000')),
            body: text,
            metadata: fc.dictionary(text, json, { maxKeys: 3 }),
            // Any instant the protocol writes, some given with microseconds, which the store truncates to milliseconds.
            at: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
            micros: fc.option(fc.integer({ min: 0, max: 999 }), { nil: undefined }),
          },
          { requiredKeys: ['body', 'metadata', 'at'] },
        );
        const cursor = fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined });
        // Read cursors of any members at any seq (a cursor at 0 is no row).
        const reads = fc.uniqueArray(fc.record({ userId: fc.uuid(), seq: fc.integer({ min: 1, max: 20 }) }), { selector: (read) => read.userId, maxLength: 5 });
        await fc.assert(
          fc.asyncProperty(fc.array(stored, { maxLength: 12 }), fc.integer({ min: 1, max: 14 }), cursor, cursor, reads, async (drafts, limit, after, before, marks) => {
            const sessionId = randomUUID();
            const sent = drafts.map(({ at, micros, ...fields }, index) =>
              message(sessionId, index + 1, { ...fields, timestamp: micros === undefined ? at.toISOString() : at.toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`) }),
            );
            await store.insertMessages(sent);
            const range = { limit, ...(after === undefined ? {} : { after }), ...(before === undefined ? {} : { before }) };
            const inRange = sent
              .map((item) => ({ ...item, timestamp: item.timestamp.slice(0, 23) + 'Z', metadata: JSON.parse(JSON.stringify(item.metadata)) as Record<string, unknown> }))
              .filter((item) => (after === undefined || item.seq > after) && (before === undefined || item.seq < before));
            const expected = after === undefined ? inRange.slice(Math.max(0, inRange.length - limit)) : inRange.slice(0, limit);
            const page = { messages: expected, hasMore: inRange.length > limit };
            expect(await store.history(sessionId, range)).toStrictEqual(page);
            for (const mark of marks) await workspace.moveReadCursor(sessionId, mark.userId, mark.seq);
            const byUser = marks.map(({ userId, seq }) => ({ userId, seq })).sort((a, b) => (a.userId < b.userId ? -1 : 1));
            expect(await workspace.readCursors(sessionId)).toStrictEqual(byUser);
            // The page and the cursors read in one statement are what each read alone answers.
            expect(await workspace.historyWithReads(sessionId, range)).toStrictEqual({ page, reads: byUser });
          }),
          { numRuns: 40 },
        );
      });

      it('never mixes messages of other sessions', async () => {
        const mine = await sessionWith(store, 2);
        await sessionWith(store, 5);
        const page = await store.history(mine, { limit: 50 });
        expect(page.messages.map((item) => [item.sessionId, item.seq])).toEqual([
          [mine, 1],
          [mine, 2],
        ]);
      });
    });

    it('answers a ping while the database is reachable', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
