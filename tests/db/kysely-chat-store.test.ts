import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KyselyChatStore } from '@chat/db';
import type { ChatMessage } from '@chat/protocol';
import { chatMessage as message } from '../support/chat-messages.ts';
import { backends } from './backends.ts';

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

    beforeAll(async () => {
      store = new KyselyChatStore(await backend.open());
    });

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

      it('returns an empty page for a session without messages', async () => {
        expect(await store.history(randomUUID(), { limit: 50 })).toEqual({ messages: [], hasMore: false });
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
