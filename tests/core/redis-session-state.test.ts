import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { connectRedis, RedisBus, RedisSessionState, sessionKeys } from '@chat/redis';
import { presenceEventPayload } from '@chat/core';
import type { ChatMessage } from '@chat/protocol';
import { describeWithServices, REDIS, TEST_REDIS_URL } from '../support/services.ts';
import { scanKeys, type RawRedis } from './live-backends.ts';

// What only the Redis implementation has: forgetting, and data shared between replicas.
const target = new URL(TEST_REDIS_URL);

(await describeWithServices({ ...REDIS, host: target.hostname, port: Number(target.port || 6379) }))('RedisSessionState', () => {
  let clock = Date.UTC(2026, 0, 1);
  let replicaA: RedisSessionState;
  let replicaB: RedisSessionState;
  let raw: RawRedis;

  beforeAll(() => {
    replicaA = new RedisSessionState({ url: TEST_REDIS_URL, recentMessages: 10, dedupeTtlSeconds: 1, now: () => clock });
    replicaB = new RedisSessionState({ url: TEST_REDIS_URL, recentMessages: 10, dedupeTtlSeconds: 1, now: () => clock });
    raw = connectRedis({ url: TEST_REDIS_URL });
  });

  afterAll(async () => {
    await Promise.all([replicaA.close(), replicaB.close(), raw.quit()]);
  });

  async function liveSession(userId: string): Promise<string> {
    const id = randomUUID();
    await replicaA.hydrate({ id, title: 'T', members: [userId], metadata: {}, createdAt: new Date(clock).toISOString(), closedAt: null }, 0);
    return id;
  }

  function reserveInput(sessionId: string, userId: string, clientMsgId: string) {
    return { sessionId, userId, clientMsgId, id: randomUUID(), timestamp: new Date(clock).toISOString() };
  }

  it('shares seqs, de-duplication and membership between replicas', async () => {
    const userId = randomUUID();
    const sessionId = await liveSession(userId);
    expect(await replicaB.membership(sessionId, userId)).toBe('member');
    const first = reserveInput(sessionId, userId, 'c1');
    expect(await replicaA.reserve(first)).toEqual({ status: 'reserved', seq: 1 });
    expect(await replicaB.reserve(reserveInput(sessionId, userId, 'c1'))).toEqual({ status: 'duplicate', id: first.id, seq: 1, timestamp: first.timestamp, committed: false });
    expect(await replicaB.reserve(reserveInput(sessionId, userId, 'c2'))).toEqual({ status: 'reserved', seq: 2 });
  });

  it('remembers a clientMsgId for at least the de-duplication TTL and forgets it within twice that', async () => {
    const userId = randomUUID();
    const sessionId = await liveSession(userId);
    clock = Math.ceil(clock / 1_000) * 1_000 + 999; // the last millisecond of a bucket: the shortest memory
    expect(await replicaA.reserve(reserveInput(sessionId, userId, 'c1'))).toEqual({ status: 'reserved', seq: 1 });
    clock += 1_000;
    expect(await replicaA.reserve(reserveInput(sessionId, userId, 'c1'))).toMatchObject({ status: 'duplicate', seq: 1 });
    clock += 1_000;
    expect(await replicaA.reserve(reserveInput(sessionId, userId, 'c1'))).toEqual({ status: 'reserved', seq: 2 });
  });

  it('gives every de-duplication bucket an expiry, so an idle session does not keep them', async () => {
    const userId = randomUUID();
    const sessionId = await liveSession(userId);
    await replicaA.reserve(reserveInput(sessionId, userId, 'c1'));
    const buckets = await scanKeys(raw, `sessions:{${sessionId}}:dedupe:*`);
    expect(buckets).toHaveLength(1);
    const ttl = await raw.ttl(buckets[0] ?? '');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2);
  });

  it('gives the bucket a commit writes to an expiry, whether its reservation was in that bucket or the one before', async () => {
    const userId = randomUUID();
    const sessionId = await liveSession(userId);
    const commitOf = (input: ReturnType<typeof reserveInput>, seq: number): ChatMessage => ({ type: 'message', id: input.id, sessionId, seq, userId, clientMsgId: input.clientMsgId, body: 'b', metadata: {}, timestamp: input.timestamp });
    clock = Math.ceil(clock / 1_000) * 1_000 + 10; // early in a bucket
    const here = reserveInput(sessionId, userId, 'here');
    expect(await replicaA.reserve(here)).toEqual({ status: 'reserved', seq: 1 });
    expect(await replicaA.commit(commitOf(here, 1))).toBe(true);
    const late = reserveInput(sessionId, userId, 'late');
    expect(await replicaA.reserve(late)).toEqual({ status: 'reserved', seq: 2 });
    // The reservation is in this bucket; the commit comes in the next one, which it creates.
    clock += 1_000;
    expect(await replicaA.commit(commitOf(late, 2))).toBe(true);
    const buckets = await scanKeys(raw, `sessions:{${sessionId}}:dedupe:*`);
    expect(buckets).toHaveLength(2);
    for (const bucket of buckets) {
      const ttl = await raw.ttl(bucket);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2);
    }
    // Both keys answer as committed.
    expect(await replicaA.reserve(reserveInput(sessionId, userId, 'here'))).toMatchObject({ status: 'duplicate', seq: 1, committed: true });
    expect(await replicaA.reserve(reserveInput(sessionId, userId, 'late'))).toMatchObject({ status: 'duplicate', seq: 2, committed: true });
  });

  it('gives the pending seals an expiry of the duplicate window, renewed by each new seal', async () => {
    const userId = randomUUID();
    const sessionId = await liveSession(userId);
    const failed = (seq: number): ChatMessage => ({ type: 'message', id: randomUUID(), sessionId, seq, userId, clientMsgId: `c${String(seq)}`, body: 'x', metadata: {}, timestamp: new Date(clock).toISOString() });
    await replicaA.holdSeal(failed(1));
    const seals = sessionKeys(sessionId).seals;
    const first = await raw.pttl(seals);
    expect(first).toBeGreaterThan(110_000);
    expect(first).toBeLessThanOrEqual(120_000);
    await raw.pexpire(seals, 5_000);
    await replicaB.holdSeal(failed(2));
    expect(await raw.pttl(seals)).toBeGreaterThan(110_000);
    expect(await raw.hlen(seals)).toBe(2);
  });

  it('keeps the recent list in seq order when commits arrive out of order, trimming the lowest seqs', async () => {
    const userId = randomUUID();
    const sessionId = await liveSession(userId);
    const small = new RedisSessionState({ url: TEST_REDIS_URL, recentMessages: 4, now: () => clock });
    try {
      for (const seq of [2, 1, 5, 3, 4, 7, 6]) {
        await small.commit({ type: 'message', id: randomUUID(), sessionId, seq, userId, body: `m${String(seq)}`, metadata: {}, timestamp: new Date(clock).toISOString() });
      }
    } finally {
      await small.close();
    }
    const stored = (await raw.lrange(sessionKeys(sessionId).messages, 0, -1)).map((entry) => (JSON.parse(entry) as ChatMessage).seq);
    expect(stored).toEqual([4, 5, 6, 7]);
    expect((await replicaA.recent(sessionId, 5)).map((message) => message.seq)).toEqual([6, 7]);
  });

  it('finds every message after a seq deep in a long recent list', async () => {
    const userId = randomUUID();
    const sessionId = await liveSession(userId);
    const big = new RedisSessionState({ url: TEST_REDIS_URL, recentMessages: 1_000, now: () => clock });
    try {
      await Promise.all(Array.from({ length: 300 }, (_, index) => big.commit({ type: 'message', id: randomUUID(), sessionId, seq: 300 - index, userId, body: 'x', metadata: {}, timestamp: new Date(clock).toISOString() })));
      expect((await big.recent(sessionId, 0)).map((message) => message.seq)).toEqual(Array.from({ length: 300 }, (_, index) => index + 1));
      expect((await big.recent(sessionId, 170)).map((message) => message.seq)).toEqual(Array.from({ length: 130 }, (_, index) => index + 171));
      expect(await big.recent(sessionId, 300)).toEqual([]);
    } finally {
      await big.close();
    }
  });

  it('publishes a first commit on the session channel from the commit itself when asked to, and a repeat not at all', async () => {
    const userId = randomUUID();
    const sessionId = await liveSession(userId);
    const otherSession = await liveSession(userId);
    const publishing = new RedisSessionState({ url: TEST_REDIS_URL, recentMessages: 10, now: () => clock, publishCommits: true });
    const bus = new RedisBus({ url: TEST_REDIS_URL });
    const heard: string[] = [];
    try {
      expect(publishing.publishesCommits).toBe(true);
      expect(replicaA.publishesCommits).toBe(false);
      await bus.subscribe(sessionId, (payload) => heard.push(payload));
      await bus.subscribe(otherSession, (payload) => heard.push(`other ${payload}`));
      const message: ChatMessage = { type: 'message', id: randomUUID(), sessionId, seq: 1, userId, clientMsgId: 'c1', body: 'hello', metadata: {}, timestamp: new Date(clock).toISOString() };
      expect(await publishing.commit(message)).toBe(true);
      // A repeat commit (a retry racing the first) and a commit by a state that does not publish: silent.
      expect(await publishing.commit(message)).toBe(false);
      expect(await replicaA.commit({ ...message, sessionId: otherSession, id: randomUUID() })).toBe(true);
      // A probe after them on the same channel: once it is heard, anything published before it has been too.
      await bus.publish(sessionId, 'probe');
      for (let waited = 0; !heard.includes('probe') && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(heard).toHaveLength(2);
      expect(JSON.parse(heard[0] ?? '')).toEqual(message);
      expect(heard[1]).toBe('probe');
    } finally {
      await Promise.all([publishing.close(), bus.close()]);
    }
  });

  it("publishes a user's first join and last leave on the session channel from the presence scripts when asked to, and nothing else", async () => {
    const alice = randomUUID();
    const sessionId = await liveSession(alice);
    const publishing = new RedisSessionState({ url: TEST_REDIS_URL, recentMessages: 10, now: () => clock, publishPresence: true });
    const bus = new RedisBus({ url: TEST_REDIS_URL });
    const heard: string[] = [];
    try {
      expect(publishing.publishesPresence).toBe(true);
      expect(replicaA.publishesPresence).toBe(false);
      await bus.subscribe(sessionId, (payload) => heard.push(payload));
      const first = { sessionId, userId: alice, connectionId: 'a1', userName: 'Alice' };
      const second = { sessionId, userId: alice, connectionId: 'a2', userName: 'Alice' };
      expect(await publishing.presenceJoinMember(first, 30_000, false)).toEqual({ membership: 'member', head: 0, joined: true, first: true });
      // The user's second connection, a stranger refused, and the first connection leaving: no event.
      expect((await publishing.presenceJoinMember(second, 30_000, false)).first).toBe(false);
      expect((await publishing.presenceJoinMember({ sessionId, userId: randomUUID(), connectionId: 's1' }, 30_000, false)).joined).toBe(false);
      expect(await publishing.presenceLeave([first])).toEqual([false]);
      expect(await publishing.presenceLeave([second])).toEqual([true]);
      // A state that does not publish announces nothing of its own.
      expect((await replicaA.presenceJoinMember(first, 30_000, false)).first).toBe(true);
      expect(await replicaA.presenceLeave([first])).toEqual([true]);
      // A probe after them on the same channel: once it is heard, anything published before it has been too.
      await bus.publish(sessionId, 'probe');
      for (let waited = 0; !heard.includes('probe') && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(heard).toEqual([presenceEventPayload('join', first), presenceEventPayload('leave', second), 'probe']);
      expect(JSON.parse(heard[0] ?? '')).toEqual({ type: 'join', userId: alice, userName: 'Alice' });
    } finally {
      await Promise.all([publishing.close(), bus.close()]);
    }
  });

  it('lends its connection to a rate limiter, which limits as its own would and leaves closing it to the state', async () => {
    const userId = randomUUID();
    const sessionId = await liveSession(userId);
    const state = new RedisSessionState({ url: TEST_REDIS_URL, recentMessages: 10, now: () => clock });
    try {
      const limiter = state.rateLimiter();
      const key = `test-limit:${randomUUID()}`;
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push((await limiter.take(key, { perSec: 1, burst: 2 })).allowed);
      expect(decisions).toEqual([true, true, false, false]);
      await limiter.close();
      // The state's connection is still open after the limiter closed.
      expect(await state.head(sessionId)).toBe(0);
    } finally {
      await state.close();
    }
  });

  it('takes its own limiter\'s budget inside the reservation, sharing the limiter\'s buckets; a refusal reserves nothing', async () => {
    const userId = randomUUID();
    const sessionId = await liveSession(userId);
    const limiter = replicaA.rateLimiter();
    expect(replicaA.takesBudgetsOf(limiter)).toBe(true);
    // Another connection's buckets could be anywhere: that budget is the intake's to take first.
    expect(replicaB.takesBudgetsOf(limiter)).toBe(false);
    const budget = { key: `limits:sends:user:{${userId}}`, perSec: 0.001, burst: 3 };
    expect(await limiter.take(budget.key, budget)).toMatchObject({ allowed: true });
    expect(await replicaA.reserve({ ...reserveInput(sessionId, userId, 'c1'), budget })).toEqual({ status: 'reserved', seq: 1 });
    expect(await replicaA.reserve({ ...reserveInput(sessionId, userId, 'c2'), budget })).toEqual({ status: 'reserved', seq: 2 });
    const refused = await replicaA.reserve({ ...reserveInput(sessionId, userId, 'c3'), budget });
    expect(refused).toMatchObject({ status: 'rate_limited' });
    expect(refused.status === 'rate_limited' && refused.retryAfterMs > 0).toBe(true);
    expect(await replicaA.head(sessionId)).toBe(2);
    expect(await replicaA.reserve(reserveInput(sessionId, userId, 'c3'))).toEqual({ status: 'reserved', seq: 3 });
    expect(await limiter.take(budget.key, budget)).toMatchObject({ allowed: false });
  });

  it('reads recent entries written without seq first, as an older writer would', async () => {
    const userId = randomUUID();
    const sessionId = await liveSession(userId);
    const message: ChatMessage = { type: 'message', id: randomUUID(), sessionId, seq: 4, userId, body: 'hi', metadata: {}, timestamp: new Date(clock).toISOString() };
    await raw.rpush(sessionKeys(sessionId).messages, JSON.stringify(message));
    expect(await replicaA.recent(sessionId, 3)).toEqual([message]);
    expect(await replicaA.recent(sessionId, 4)).toEqual([]);
  });
});
