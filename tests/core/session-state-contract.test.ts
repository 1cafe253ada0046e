import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MemoryUserRateLimiter, type PresenceEntry, type SessionRecord, type SessionState } from '@chat/core';
import { RedisSessionState } from '@chat/redis';
import { seqGap, type ChatMessage } from '@chat/protocol';
import { stateBackends } from './live-backends.ts';

const RECENT = 5;
const TTL = 30_000;

function sessionRecord(members: string[] = [], extra: Partial<SessionRecord> = {}): SessionRecord {
  return { id: randomUUID(), title: 'Standup', members, metadata: { team: 'core' }, createdAt: new Date().toISOString(), closedAt: null, ...extra };
}

function chatMessage(sessionId: string, seq: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return { type: 'message', id: randomUUID(), sessionId, seq, userId: randomUUID(), body: `message ${seq}`, metadata: {}, timestamp: new Date().toISOString(), ...extra };
}

/** As the message path reserves once the store was asked; the 'restored' tests below leave durableChecked out. */
function reserveInput(sessionId: string, userId: string, clientMsgId: string = randomUUID()) {
  return { sessionId, userId, clientMsgId, id: randomUUID(), timestamp: new Date().toISOString(), durableChecked: true };
}

for (const backend of await stateBackends()) {
  (backend.available ? describe : describe.skip)(`SessionState contract on ${backend.name}`, () => {
    let clock = Date.UTC(2026, 0, 1);
    let state: SessionState;

    beforeAll(async () => {
      await backend.start?.();
      state = backend.open({ recentMessages: RECENT, now: () => clock });
    }, 60_000);

    afterAll(async () => {
      await state.close();
      await backend.close();
    });

    /**
     * Where the backend stores keys, checks them; the memory backend keeps one map entry per
     * session, which exists() already answers for, so it has nothing more to look at.
     */
    async function expectStoredKeys(sessionId: string, expected: unknown): Promise<void> {
      if (backend.keysOf === undefined) {
        expect(backend.name).toBe('memory');
        return;
      }
      expect(await backend.keysOf(sessionId)).toEqual(expected);
    }

    async function liveSession(members: string[] = [], head = 0): Promise<string> {
      const session = sessionRecord(members);
      await state.hydrate(session, head);
      return session.id;
    }

    /** A member's presence join, which must register the connection; true when it is the user's first (announce a join). */
    async function joinPresence(entry: PresenceEntry, ttlMs: number): Promise<boolean> {
      const result = await state.presenceJoinMember(entry, ttlMs, false);
      expect(result.joined).toBe(true);
      return result.first;
    }

    describe('hydrate and membership', () => {
      it('knows nothing about a session that was never hydrated', async () => {
        const sessionId = randomUUID();
        expect(await state.exists(sessionId)).toBe(false);
        expect(await state.head(sessionId)).toBeNull();
        expect(await state.membership(sessionId, randomUUID())).toBe('unknown_session');
      });

      it('makes a hydrated session live with its members and head', async () => {
        const [alice, bob] = [randomUUID(), randomUUID()];
        const sessionId = await liveSession([alice, bob], 7);
        expect(await state.exists(sessionId)).toBe(true);
        expect(await state.head(sessionId)).toBe(7);
        expect(await state.membership(sessionId, alice)).toBe('member');
        expect(await state.membership(sessionId, bob)).toBe('member');
        expect(await state.membership(sessionId, randomUUID())).toBe('not_member');
      });

      it('keeps a session without members live', async () => {
        const sessionId = await liveSession([]);
        expect(await state.exists(sessionId)).toBe(true);
        expect(await state.head(sessionId)).toBe(0);
      });

      it('never lowers the head when hydrated again, but raises it and merges members', async () => {
        const [alice, bob] = [randomUUID(), randomUUID()];
        const session = sessionRecord([alice]);
        await state.hydrate(session, 10);
        await state.hydrate({ ...session, members: [bob] }, 3);
        expect(await state.head(session.id)).toBe(10);
        expect(await state.membership(session.id, alice)).toBe('member');
        expect(await state.membership(session.id, bob)).toBe('member');
        await state.hydrate(session, 12);
        expect(await state.head(session.id)).toBe(12);
      });

      it('adds members to a live session', async () => {
        const carol = randomUUID();
        const sessionId = await liveSession([randomUUID()]);
        await state.addMembers(sessionId, [carol]);
        expect(await state.membership(sessionId, carol)).toBe('member');
      });

      it('ignores added members of a session that is not live', async () => {
        const sessionId = randomUUID();
        await state.addMembers(sessionId, [randomUUID()]);
        expect(await state.exists(sessionId)).toBe(false);
        await expectStoredKeys(sessionId, []);
      });
    });

    describe('reserve and commit', () => {
      it('answers unknown_session for a session that is not live', async () => {
        expect(await state.reserve(reserveInput(randomUUID(), randomUUID()))).toEqual({ status: 'unknown_session' });
      });

      it('hands out consecutive seqs after the hydrated head', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId], 4);
        const seqs = [];
        for (let i = 0; i < 3; i += 1) seqs.push(await state.reserve(reserveInput(sessionId, userId)));
        expect(seqs).toEqual([5, 6, 7].map((seq) => ({ status: 'reserved', seq })));
        expect(await state.head(sessionId)).toBe(7);
      });

      it('returns the first id, seq and timestamp for a repeated clientMsgId, committed only after commit', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        const first = reserveInput(sessionId, userId, 'client-1');
        expect(await state.reserve(first)).toEqual({ status: 'reserved', seq: 1 });

        const retry = { ...reserveInput(sessionId, userId, 'client-1') };
        expect(await state.reserve(retry)).toEqual({ status: 'duplicate', id: first.id, seq: 1, timestamp: first.timestamp, committed: false });

        expect(await state.commit(chatMessage(sessionId, 1, { id: first.id, userId, clientMsgId: 'client-1', timestamp: first.timestamp }))).toBe(true);
        expect(await state.reserve(retry)).toEqual({ status: 'duplicate', id: first.id, seq: 1, timestamp: first.timestamp, committed: true });
        expect(await state.head(sessionId)).toBe(1);
      });

      it('does not treat the same clientMsgId from another user as a repeat', async () => {
        const [alice, bob] = [randomUUID(), randomUUID()];
        const sessionId = await liveSession([alice, bob]);
        expect(await state.reserve(reserveInput(sessionId, alice, 'same'))).toEqual({ status: 'reserved', seq: 1 });
        expect(await state.reserve(reserveInput(sessionId, bob, 'same'))).toEqual({ status: 'reserved', seq: 2 });
      });

      it('commits a message once: true the first time, false after', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        const input = reserveInput(sessionId, userId);
        await state.reserve(input);
        const message = chatMessage(sessionId, 1, { id: input.id, userId, clientMsgId: input.clientMsgId, timestamp: input.timestamp });
        expect(await state.commit(message)).toBe(true);
        expect(await state.commit(message)).toBe(false);
        expect(await state.recent(sessionId, 0)).toEqual([message]);
      });

      it('keys the commit of a message without clientMsgId by its id', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        const input = reserveInput(sessionId, userId);
        await state.reserve({ ...input, clientMsgId: input.id });
        const message = chatMessage(sessionId, 1, { id: input.id, userId, timestamp: input.timestamp });
        expect(await state.commit(message)).toBe(true);
        expect(await state.reserve({ ...input, clientMsgId: input.id })).toEqual({ status: 'duplicate', id: input.id, seq: 1, timestamp: input.timestamp, committed: true });
      });

      it('refuses to commit into a session that is not live', async () => {
        const sessionId = randomUUID();
        expect(await state.commit(chatMessage(sessionId, 1))).toBe(false);
        expect(await state.recent(sessionId, 0)).toEqual([]);
      });

      it('hands 200 concurrent reserves distinct consecutive seqs', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId], 100);
        const results = await Promise.all(Array.from({ length: 200 }, () => state.reserve(reserveInput(sessionId, userId))));
        const seqs = results.map((result) => (result.status === 'reserved' ? result.seq : -1)).sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: 200 }, (_, index) => 101 + index));
        expect(await state.head(sessionId)).toBe(300);
      });

      it('gives 50 concurrent sends of one clientMsgId a single seq', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        const results = await Promise.all(Array.from({ length: 50 }, () => state.reserve(reserveInput(sessionId, userId, 'once'))));
        expect(results.filter((result) => result.status === 'reserved')).toEqual([{ status: 'reserved', seq: 1 }]);
        expect(new Set(results.map((result) => (result.status === 'reserved' || result.status === 'duplicate' ? result.seq : -1)))).toEqual(new Set([1]));
        expect(await state.head(sessionId)).toBe(1);
      });
    });

    it('takes a send budget inside the reservation only on standalone Redis, where one script may touch the user\'s bucket and the session\'s keys', () => {
      const limiter = state instanceof RedisSessionState ? state.rateLimiter() : new MemoryUserRateLimiter();
      expect(state.takesBudgetsOf?.(limiter) === true).toBe(backend.name === 'Redis');
    });

    describe('release', () => {
      it('gives back a fresh seq that is still the head, with its de-duplication entry, as if never reserved', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId], 3);
        const unsent = reserveInput(sessionId, userId, 'unsent');
        expect(await state.reserve(unsent)).toEqual({ status: 'reserved', seq: 4 });
        expect(await state.release({ sessionId, userId, clientMsgId: 'unsent', id: unsent.id, seq: 4 })).toBe(true);
        expect(await state.head(sessionId)).toBe(3);
        const resend = reserveInput(sessionId, userId, 'unsent');
        expect(await state.reserve(resend)).toEqual({ status: 'reserved', seq: 4 });
        // Only once: the resend's reservation is not the released one's.
        expect(await state.release({ sessionId, userId, clientMsgId: 'unsent', id: unsent.id, seq: 4 })).toBe(false);
        expect(await state.head(sessionId)).toBe(4);
      });

      it('keeps a seq a repeat of the send was answered with, since the repeat may be publishing it', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        const first = reserveInput(sessionId, userId, 'twice');
        expect(await state.reserve(first)).toEqual({ status: 'reserved', seq: 1 });
        expect(await state.reserve(reserveInput(sessionId, userId, 'twice'))).toMatchObject({ status: 'duplicate', id: first.id, seq: 1, committed: false });
        expect(await state.release({ sessionId, userId, clientMsgId: 'twice', id: first.id, seq: 1 })).toBe(false);
        expect(await state.head(sessionId)).toBe(1);
      });

      it('keeps a seq another reservation came after, and one already committed', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        const first = reserveInput(sessionId, userId, 'first');
        await state.reserve(first);
        await state.reserve(reserveInput(sessionId, userId, 'second'));
        expect(await state.release({ sessionId, userId, clientMsgId: 'first', id: first.id, seq: 1 })).toBe(false);
        expect(await state.head(sessionId)).toBe(2);
        expect(await state.reserve(reserveInput(sessionId, userId, 'first'))).toMatchObject({ status: 'duplicate', id: first.id, seq: 1 });
        const third = reserveInput(sessionId, userId, 'third');
        await state.reserve(third);
        expect(await state.commit(chatMessage(sessionId, 3, { id: third.id, userId, clientMsgId: 'third', timestamp: third.timestamp }))).toBe(true);
        expect(await state.release({ sessionId, userId, clientMsgId: 'third', id: third.id, seq: 3 })).toBe(false);
        expect(await state.head(sessionId)).toBe(3);
      });
    });

    describe('pending seals', () => {
      /** A send whose publish failed as the queue's connection dropped, holding seq `seq`. */
      async function failedSend(sessionId: string, userId: string, clientMsgId: string): Promise<ChatMessage> {
        const input = reserveInput(sessionId, userId, clientMsgId);
        const reservation = await state.reserve(input);
        if (reservation.status !== 'reserved') throw new Error(`expected a fresh seq, got ${reservation.status}`);
        return chatMessage(sessionId, reservation.seq, { id: input.id, userId, clientMsgId, timestamp: input.timestamp });
      }

      it('returns a held seal with every later reservation, in seq order, until a commit at its seq', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        const first = await failedSend(sessionId, userId, 'first');
        const second = await failedSend(sessionId, userId, 'second');
        await state.holdSeal(second);
        await state.holdSeal(first);
        expect(await state.reserve(reserveInput(sessionId, userId))).toEqual({ status: 'reserved', seq: 3, pendingSeals: [first, second] });
        // A repeat of the key being sealed learns of it too (and leaves its own seq alone).
        expect(await state.reserve(reserveInput(sessionId, userId, 'first'))).toMatchObject({ status: 'duplicate', seq: 1, committed: false, pendingSeals: [first, second] });
        // Whatever takes the seq settles it: the gap record here, the message itself for the other.
        expect(await state.commit(seqGap(first, randomUUID()))).toBe(true);
        expect(await state.commit(second)).toBe(true);
        expect(await state.reserve(reserveInput(sessionId, userId))).toEqual({ status: 'reserved', seq: 4 });
      });

      it('drops a held seal on clearSeal, and only that one', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        const first = await failedSend(sessionId, userId, 'first');
        const second = await failedSend(sessionId, userId, 'second');
        await state.holdSeal(first);
        await state.holdSeal(second);
        await state.clearSeal(sessionId, first.seq);
        await state.clearSeal(sessionId, 99);
        expect(await state.reserve(reserveInput(sessionId, userId))).toEqual({ status: 'reserved', seq: 3, pendingSeals: [second] });
      });

      it('holds no seal for a session that is not live, and drops it with the session', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        const failed = await failedSend(sessionId, userId, 'failed');
        await state.remove(sessionId);
        await state.holdSeal(failed);
        await expectStoredKeys(sessionId, []);
        await state.hydrate(sessionRecord([userId], { id: sessionId }), 1);
        await state.holdSeal(failed);
        await state.remove(sessionId);
        await expectStoredKeys(sessionId, []);
        await state.hydrate(sessionRecord([userId], { id: sessionId }), 1);
        expect(await state.reserve(reserveInput(sessionId, userId))).toEqual({ status: 'reserved', seq: 2 });
      });
    });

    describe('after live state was lost (restored)', () => {
      const unchecked = (sessionId: string, userId: string, clientMsgId: string) => ({ ...reserveInput(sessionId, userId, clientMsgId), durableChecked: false });

      it('sends a key it does not know to the store when the session had messages before it became live', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId], 4);
        expect(await state.reserve(unchecked(sessionId, userId, 'old'))).toEqual({ status: 'restored' });
        expect(await state.head(sessionId)).toBe(4);
        const checked = reserveInput(sessionId, userId, 'old');
        expect(await state.reserve(checked)).toEqual({ status: 'reserved', seq: 5 });
        // Known to live state now: a repeat is a duplicate, not sent to the store again.
        expect(await state.reserve(unchecked(sessionId, userId, 'old'))).toMatchObject({ status: 'duplicate', id: checked.id, seq: 5 });
      });

      it('never asks for a session that had no message, nor for one hydrated again while live', async () => {
        const userId = randomUUID();
        const empty = await liveSession([userId], 0);
        expect(await state.reserve(unchecked(empty, userId, 'a'))).toEqual({ status: 'reserved', seq: 1 });
        await state.hydrate(sessionRecord([userId], { id: empty }), 9);
        expect(await state.reserve(unchecked(empty, userId, 'b'))).toEqual({ status: 'reserved', seq: 10 });
      });

      it('stops asking once every key from before could have expired anyway', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId], 2);
        clock += 2 * 24 * 60 * 60 * 1000 + 1;
        expect(await state.reserve(unchecked(sessionId, userId, 'late'))).toEqual({ status: 'reserved', seq: 3 });
      });

      it('adopts a message found in the durable tiers: later repeats get it, nothing is fanned out again', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId], 6);
        const first = chatMessage(sessionId, 3, { userId, clientMsgId: 'sent' });
        expect(await state.adopt({ sessionId, userId, clientMsgId: 'sent', first })).toBe('none');
        expect(await state.reserve(unchecked(sessionId, userId, 'sent'))).toEqual({ status: 'duplicate', id: first.id, seq: 3, timestamp: first.timestamp, committed: true });
        expect(await state.commit(first)).toBe(false);
        expect(await state.recent(sessionId, 0)).toEqual([]);
        expect(await state.head(sessionId)).toBe(6);
      });

      it('gives back the seq an attempt reserved before the queue found the first copy, while it is the head', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId], 6);
        const attempt = reserveInput(sessionId, userId, 'again');
        expect(await state.reserve(attempt)).toEqual({ status: 'reserved', seq: 7 });
        const first = chatMessage(sessionId, 5, { userId, clientMsgId: 'again' });
        expect(await state.adopt({ sessionId, userId, clientMsgId: 'again', first, unused: { id: attempt.id, seq: 7 } })).toBe('released');
        expect(await state.head(sessionId)).toBe(6);
        expect(await state.reserve(reserveInput(sessionId, userId, 'again'))).toMatchObject({ status: 'duplicate', id: first.id, seq: 5 });
      });

      it('keeps that seq when another was reserved after it', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId], 6);
        const attempt = reserveInput(sessionId, userId, 'again');
        await state.reserve(attempt);
        await state.reserve(reserveInput(sessionId, userId, 'other'));
        const first = chatMessage(sessionId, 5, { userId, clientMsgId: 'again' });
        expect(await state.adopt({ sessionId, userId, clientMsgId: 'again', first, unused: { id: attempt.id, seq: 7 } })).toBe('kept');
        // A second attempt of the same key finds it dealt with.
        expect(await state.adopt({ sessionId, userId, clientMsgId: 'again', first, unused: { id: attempt.id, seq: 7 } })).toBe('none');
        expect(await state.head(sessionId)).toBe(8);
        expect(await state.reserve(reserveInput(sessionId, userId, 'again'))).toMatchObject({ status: 'duplicate', id: first.id, seq: 5 });
      });
    });

    describe('recent messages', () => {
      it('lists committed messages after a seq in ascending order, whatever the commit order', async () => {
        const sessionId = await liveSession();
        const messages = [3, 1, 2].map((seq) => chatMessage(sessionId, seq));
        for (const message of messages) await state.commit(message);
        expect((await state.recent(sessionId, 0)).map((message) => message.seq)).toEqual([1, 2, 3]);
        expect((await state.recent(sessionId, 1)).map((message) => message.seq)).toEqual([2, 3]);
        expect(await state.recent(sessionId, 3)).toEqual([]);
        expect(await state.recent(sessionId, 1)).toEqual([messages[2], messages[0]]);
      });

      it('keeps only the newest messages up to the cap', async () => {
        const sessionId = await liveSession();
        for (let seq = 1; seq <= RECENT + 3; seq += 1) await state.commit(chatMessage(sessionId, seq));
        expect((await state.recent(sessionId, 0)).map((message) => message.seq)).toEqual([4, 5, 6, 7, 8]);
      });

      it('round-trips every field of a message', async () => {
        const sessionId = await liveSession();
        const message = chatMessage(sessionId, 1, { userName: 'Zoë 🚀', clientMsgId: 'c-1', body: 'multi\nline "quoted" | piped', metadata: { nested: { list: [1, 2] } } });
        await state.commit(message);
        expect(await state.recent(sessionId, 0)).toEqual([message]);
      });
    });

    describe('remove', () => {
      it('drops every live key of the session', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId], 3);
        const input = reserveInput(sessionId, userId);
        await state.reserve(input);
        await state.commit(chatMessage(sessionId, 4, { id: input.id, userId, clientMsgId: input.clientMsgId }));
        await joinPresence({ sessionId, userId, connectionId: randomUUID(), userName: 'Ann' }, TTL);
        await expectStoredKeys(sessionId, expect.arrayContaining([`sessions:{${sessionId}}:messages`, `sessions:{${sessionId}}:users`, `sessions:{${sessionId}}:metadata`]));

        await state.remove(sessionId);

        expect(await state.exists(sessionId)).toBe(false);
        expect(await state.head(sessionId)).toBeNull();
        expect(await state.membership(sessionId, userId)).toBe('unknown_session');
        expect(await state.recent(sessionId, 0)).toEqual([]);
        expect(await state.presenceOnline(sessionId)).toEqual([]);
        expect(await state.reserve(input)).toEqual({ status: 'unknown_session' });
        await expectStoredKeys(sessionId, []);
      });

      it('leaves other sessions alone', async () => {
        const userId = randomUUID();
        const kept = await liveSession([userId], 2);
        await state.remove(await liveSession([userId], 2));
        expect(await state.membership(kept, userId)).toBe('member');
        expect(await state.head(kept)).toBe(2);
      });
    });

    describe('presence', () => {
      it('announces a user with several connections once, on the first join', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        expect(await joinPresence({ sessionId, userId, connectionId: 'c1', userName: 'Ann' }, TTL)).toBe(true);
        expect(await joinPresence({ sessionId, userId, connectionId: 'c2', userName: 'Ann' }, TTL)).toBe(false);
        expect(await joinPresence({ sessionId, userId, connectionId: 'c2', userName: 'Ann' }, TTL)).toBe(false);
        expect(await state.presenceOnline(sessionId)).toEqual([{ userId, userName: 'Ann' }]);
      });

      it('announces the leave only when the last connection goes', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        await joinPresence({ sessionId, userId, connectionId: 'c1' }, TTL);
        await joinPresence({ sessionId, userId, connectionId: 'c2' }, TTL);
        expect(await state.presenceLeave([{ sessionId, userId, connectionId: 'c1' }])).toEqual([false]);
        expect(await state.presenceOnline(sessionId)).toEqual([{ userId }]);
        expect(await state.presenceLeave([{ sessionId, userId, connectionId: 'c2' }])).toEqual([true]);
        expect(await state.presenceLeave([{ sessionId, userId, connectionId: 'c2' }])).toEqual([false]);
        expect(await state.presenceOnline(sessionId)).toEqual([]);
        // Gone entirely: joining again is a fresh join.
        expect(await joinPresence({ sessionId, userId, connectionId: 'c3' }, TTL)).toBe(true);
      });

      it('leaves many connections of several sessions in one call, each answered in order', async () => {
        const users = Array.from({ length: 150 }, () => randomUUID());
        const [first, second] = [await liveSession(users), await liveSession(users)];
        // Two connections per user in the first session, one in the second: 450 entries, more than one script's worth per session.
        const entries = users.flatMap((userId, i) => [
          { sessionId: first, userId, connectionId: `a${String(i)}` },
          { sessionId: second, userId, connectionId: `b${String(i)}` },
          { sessionId: first, userId, connectionId: `c${String(i)}` },
        ]);
        for (const entry of entries) await joinPresence(entry, TTL);
        clock += 5;
        // A connection never joined, and one given twice: neither is anyone's last.
        const leaving = [{ sessionId: first, userId: users[0] ?? '', connectionId: 'never' }, ...entries, { sessionId: second, userId: users[1] ?? '', connectionId: 'b1' }];
        const last = await state.presenceLeave(leaving);
        expect(last).toEqual([false, ...users.flatMap(() => [false, true, true]), false]);
        expect(await state.presenceOnline(first)).toEqual([]);
        expect(await state.presenceOnline(second)).toEqual([]);
        expect((await state.lastConnected(first)).get(users[7] ?? '')).toBe(clock);
        expect(await state.presenceLeave([])).toEqual([]);
      });

      it('lists every online user, with names where known', async () => {
        const [alice, bob] = [randomUUID(), randomUUID()];
        const sessionId = await liveSession([alice, bob]);
        await joinPresence({ sessionId, userId: alice, connectionId: 'a1', userName: 'Alice' }, TTL);
        await joinPresence({ sessionId, userId: bob, connectionId: 'b1' }, TTL);
        const online = await state.presenceOnline(sessionId);
        expect(online).toHaveLength(2);
        expect(online).toEqual(expect.arrayContaining([{ userId: alice, userName: 'Alice' }, { userId: bob }]));
      });

      it('joins a member with its membership and head in one step, like the separate reads and join', async () => {
        const [alice, bob] = [randomUUID(), randomUUID()];
        const sessionId = await liveSession([alice, bob], 4);
        expect(await state.presenceJoinMember({ sessionId, userId: alice, connectionId: 'a1', userName: 'Alice' }, TTL, false)).toEqual({ membership: 'member', head: 4, joined: true, first: true });
        expect(await state.presenceJoinMember({ sessionId, userId: alice, connectionId: 'a2', userName: 'Alice' }, TTL, false)).toEqual({ membership: 'member', head: 4, joined: true, first: false });
        // The same connection again (a retried join) is not a second connection.
        expect(await state.presenceJoinMember({ sessionId, userId: alice, connectionId: 'a2', userName: 'Alice' }, TTL, false)).toEqual({ membership: 'member', head: 4, joined: true, first: false });
        expect(await state.presenceOnline(sessionId)).toEqual([{ userId: alice, userName: 'Alice' }]);
        expect((await state.lastConnected(sessionId)).get(alice)).toBe(clock);
        expect(await state.presenceLeave([{ sessionId, userId: alice, connectionId: 'a1' }])).toEqual([false]);
        expect(await state.presenceLeave([{ sessionId, userId: alice, connectionId: 'a2' }])).toEqual([true]);
        expect(await state.presenceOnline(sessionId)).toEqual([]);
      });

      it('never joins a removed member or a stranger, and joins anyone only when told to', async () => {
        const [alice, bob, stranger] = [randomUUID(), randomUUID(), randomUUID()];
        const sessionId = await liveSession([alice, bob], 2);
        await state.removeMember(sessionId, bob);
        for (const userId of [bob, stranger]) {
          expect(await state.presenceJoinMember({ sessionId, userId, connectionId: `c-${userId}` }, TTL, false)).toEqual({ membership: 'not_member', head: 2, joined: false, first: false });
        }
        expect(await state.presenceOnline(sessionId)).toEqual([]);
        expect((await state.lastConnected(sessionId)).size).toBe(0);
        // An admin needs no membership.
        expect(await state.presenceJoinMember({ sessionId, userId: stranger, connectionId: 'admin' }, TTL, true)).toEqual({ membership: 'not_member', head: 2, joined: true, first: true });
        expect(await state.presenceOnline(sessionId)).toEqual([{ userId: stranger }]);
      });

      it('joins nobody to a session that is not live', async () => {
        const sessionId = randomUUID();
        for (const anyone of [false, true]) {
          expect(await state.presenceJoinMember({ sessionId, userId: randomUUID(), connectionId: 'c1' }, TTL, anyone)).toEqual({ membership: 'unknown_session', head: null, joined: false, first: false });
        }
        expect(await state.presenceOnline(sessionId)).toEqual([]);
        expect((await state.lastConnected(sessionId)).size).toBe(0);
      });

      it('lets leases of connections nobody refreshes expire, and sweeps their users out', async () => {
        const [alice, bob] = [randomUUID(), randomUUID()];
        const sessionId = await liveSession([alice, bob]);
        await joinPresence({ sessionId, userId: alice, connectionId: 'crashed-a' }, 1_000);
        await joinPresence({ sessionId, userId: bob, connectionId: 'crashed-b' }, 1_000);
        await joinPresence({ sessionId, userId: bob, connectionId: 'alive-b' }, 5_000);
        expect(await state.presenceSweep(sessionId)).toEqual([]);

        clock += 1_000;
        // Expired leases no longer count as online even before a sweep.
        expect(await state.presenceOnline(sessionId)).toEqual([{ userId: bob }]);
        expect(await state.presenceSweep(sessionId)).toEqual([alice]);
        expect(await state.presenceSweep(sessionId)).toEqual([]);
        expect(await state.presenceOnline(sessionId)).toEqual([{ userId: bob }]);
        // Bob still holds a connection, so leaving the swept one is no leave of Bob.
        expect(await state.presenceLeave([{ sessionId, userId: bob, connectionId: 'crashed-b' }])).toEqual([false]);
        expect(await state.presenceLeave([{ sessionId, userId: bob, connectionId: 'alive-b' }])).toEqual([true]);
      });

      it('keeps refreshed leases alive past their first expiry', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        const entry = { sessionId, userId, connectionId: 'c1' };
        await joinPresence(entry, 1_000);
        clock += 900;
        await state.presenceRefresh([entry], 1_000);
        clock += 900;
        expect(await state.presenceSweep(sessionId)).toEqual([]);
        expect(await state.presenceOnline(sessionId)).toEqual([{ userId }]);
        clock += 100;
        expect(await state.presenceSweep(sessionId)).toEqual([userId]);
      });

      it('does not bring a swept connection back on refresh', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        const entry = { sessionId, userId, connectionId: 'c1' };
        await joinPresence(entry, 1_000);
        clock += 1_000;
        expect(await state.presenceSweep(sessionId)).toEqual([userId]);
        await state.presenceRefresh([entry, { sessionId: randomUUID(), userId, connectionId: 'c9' }], 1_000);
        expect(await state.presenceOnline(sessionId)).toEqual([]);
      });

      it('refreshes more connections of one session than one command of its script carries, and notes each user as seen', async () => {
        const users = [randomUUID(), randomUUID(), randomUUID()];
        const sessionId = await liveSession(users);
        const entries = users.flatMap((userId) => Array.from({ length: 400 }, (_, n) => ({ sessionId, userId, connectionId: `${userId}-${String(n)}` })));
        for (const entry of entries) await joinPresence(entry, 1_000);
        clock += 900;
        await state.presenceRefresh(entries, 1_000);
        const refreshedAt = clock;
        clock += 900;
        expect(await state.presenceSweep(sessionId)).toEqual([]);
        const seen = await state.lastConnected(sessionId);
        for (const userId of users) expect(seen.get(userId)).toBe(refreshedAt);
        clock += 100;
        expect((await state.presenceSweep(sessionId)).sort()).toEqual([...users].sort());
      });

      it('refreshes many connections of several sessions at once, and only those', async () => {
        const users = [randomUUID(), randomUUID(), randomUUID()];
        const sessions = [await liveSession(users), await liveSession(users)];
        const entries = sessions.flatMap((sessionId) => users.flatMap((userId) => [1, 2].map((n) => ({ sessionId, userId, connectionId: `${userId}-${String(n)}` }))));
        for (const entry of entries) await joinPresence(entry, 1_000);
        clock += 900;
        // The first user's connections in the first session are not refreshed (their replica is gone).
        const lapsing = entries.filter((entry) => entry.sessionId === sessions[0] && entry.userId === users[0]);
        await state.presenceRefresh(entries.filter((entry) => !lapsing.includes(entry)), 1_000);
        clock += 200;
        expect(await state.presenceSweep(sessions[0] ?? '')).toEqual([users[0]]);
        expect(await state.presenceSweep(sessions[1] ?? '')).toEqual([]);
        const online = async (sessionId: string | undefined) => (await state.presenceOnline(sessionId ?? '')).map((entry) => entry.userId).sort();
        expect(await online(sessions[0])).toEqual([users[1], users[2]].sort());
        expect(await online(sessions[1])).toEqual([...users].sort());
      });

      it('counts a returning user whose only lease expired as a fresh join', async () => {
        const userId = randomUUID();
        const sessionId = await liveSession([userId]);
        await joinPresence({ sessionId, userId, connectionId: 'old' }, 1_000);
        clock += 1_000;
        expect(await joinPresence({ sessionId, userId, connectionId: 'new' }, 1_000)).toBe(true);
        expect(await state.presenceOnline(sessionId)).toEqual([{ userId }]);
      });
    });

    it('answers ping', async () => {
      await expect(state.ping()).resolves.toBeUndefined();
    });
  });
}
