import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createVerifier } from '@chat/composition';
import { loadConfig } from '@chat/config';
import { SessionDirectory, type WorkspaceStore } from '@chat/core';
import type { ChatMessage } from '@chat/protocol';
import { createLogger } from '@chat/telemetry';
import type { Express } from 'express';
import request from 'supertest';
import { bearer, createFixture, SECRET, type Fixture } from '../testing/api-fixture.ts';
import { createApiApp } from './api-app.ts';

let fx: Fixture;
beforeAll(async () => {
  // A live list of three, so older acknowledged messages are found only in the store.
  fx = await createFixture({ recentMessages: 3, env: { RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' } });
});
afterAll(() => fx.close());

async function sessionOf(ownerId: string): Promise<string> {
  const res = await request(fx.app).post('/api/chat/sessions').set('Authorization', await bearer(ownerId)).send({}).expect(201);
  return res.body.id as string;
}

async function history(sessionId: string, auth: string, query = ''): Promise<{ seqs: number[]; hasMore: boolean }> {
  const res = await request(fx.app).get(`/api/chat/history/${sessionId}${query}`).set('Authorization', auth).expect(200);
  const body = res.body as { messages: ChatMessage[]; hasMore: boolean };
  return { seqs: body.messages.map((m) => m.seq), hasMore: body.hasMore };
}

describe('GET /api/chat/history/{id} across the store and live state', () => {
  const owner = randomUUID();
  let sessionId: string;
  let auth: string;

  beforeAll(async () => {
    sessionId = await sessionOf(owner);
    auth = await bearer(owner);
    for (let i = 1; i <= 8; i++) await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: `m${i}` }).expect(201);
    // The persister has written 1..5 so far; 6..8 are acknowledged and only in live state.
    await fx.store.insertMessages(fx.queue.published.filter((m) => m.sessionId === sessionId && m.seq <= 5));
  });

  it('shows acknowledged messages the persister has not written yet, in ascending seq', async () => {
    expect(await history(sessionId, auth)).toEqual({ seqs: [1, 2, 3, 4, 5, 6, 7, 8], hasMore: false });
    const res = await request(fx.app).get(`/api/chat/history/${sessionId}?limit=1`).set('Authorization', auth).expect(200);
    expect(res.body.messages).toEqual([fx.queue.published.find((m) => m.sessionId === sessionId && m.seq === 8)]);
  });

  it('gives the latest `limit` messages, with hasMore when older ones exist', async () => {
    expect(await history(sessionId, auth, '?limit=4')).toEqual({ seqs: [5, 6, 7, 8], hasMore: true });
    expect(await history(sessionId, auth, '?limit=8')).toEqual({ seqs: [1, 2, 3, 4, 5, 6, 7, 8], hasMore: false });
  });

  it('scrolls back with before, with hasMore until the first message', async () => {
    expect(await history(sessionId, auth, '?limit=3&before=7')).toEqual({ seqs: [4, 5, 6], hasMore: true });
    expect(await history(sessionId, auth, '?limit=3&before=4')).toEqual({ seqs: [1, 2, 3], hasMore: false });
    expect(await history(sessionId, auth, '?before=1')).toEqual({ seqs: [], hasMore: false });
  });

  it('catches up with after, with hasMore until the head', async () => {
    expect(await history(sessionId, auth, '?limit=3&after=3')).toEqual({ seqs: [4, 5, 6], hasMore: true });
    expect(await history(sessionId, auth, '?limit=3&after=5')).toEqual({ seqs: [6, 7, 8], hasMore: false });
    expect(await history(sessionId, auth, '?after=6')).toEqual({ seqs: [7, 8], hasMore: false });
    expect(await history(sessionId, auth, '?after=8')).toEqual({ seqs: [], hasMore: false });
  });

  it('gives an admin reading a closed session the messages acknowledged before the close and not written yet', async () => {
    const closing = await sessionOf(owner);
    for (let i = 1; i <= 3; i++) await request(fx.app).post(`/api/chat/sessions/${closing}/messages`).set('Authorization', auth).send({ body: `c${i}` }).expect(201);
    await fx.store.insertMessages(fx.queue.published.filter((m) => m.sessionId === closing && m.seq === 1));
    const admin = await bearer(randomUUID(), { admin: true });
    await request(fx.app).delete(`/api/chat/sessions/${closing}`).set('Authorization', admin).expect(204);
    // No live state is left for a closed session: 2 and 3 are only in the queue.
    expect(await history(closing, admin)).toEqual({ seqs: [1, 2, 3], hasMore: false });
  });

  it('lets an admin read it, and refuses a non-member with 403', async () => {
    expect(await history(sessionId, await bearer(randomUUID(), { admin: true }), '?limit=2')).toEqual({ seqs: [7, 8], hasMore: true });
    const res = await request(fx.app).get(`/api/chat/history/${sessionId}`).set('Authorization', await bearer(randomUUID())).expect(403);
    expect(res.body.error.code).toBe('forbidden');
  });
});

describe('GET /api/chat/history/{id} paging', () => {
  it('defaults to the latest 50 and accepts up to 500', async () => {
    const owner = randomUUID();
    const sessionId = await sessionOf(owner);
    const persisted: ChatMessage[] = Array.from({ length: 60 }, (_, i) => ({
      type: 'message',
      id: randomUUID(),
      sessionId,
      seq: i + 1,
      userId: owner,
      body: `old ${i + 1}`,
      metadata: {},
      timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    }));
    await fx.store.insertMessages(persisted);
    const auth = await bearer(owner);
    const page = await history(sessionId, auth);
    expect(page.seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 11));
    expect(page.hasMore).toBe(true);
    expect(await history(sessionId, auth, '?limit=500')).toEqual({ seqs: persisted.map((m) => m.seq), hasMore: false });
  });

  it('refuses bad queries with 400: both cursors, limit over 500 or under 1, cursors that are not integers', async () => {
    const owner = randomUUID();
    const sessionId = await sessionOf(owner);
    const auth = await bearer(owner);
    for (const query of ['?before=5&after=2', '?limit=501', '?limit=0', '?limit=2.5', '?before=abc', '?after=-1']) {
      const res = await request(fx.app).get(`/api/chat/history/${sessionId}${query}`).set('Authorization', auth);
      expect([query, res.status, res.body.error?.code]).toEqual([query, 400, 'invalid_input']);
    }
  });

  it('answers 404 for an unknown session and 400 for an id that is not a UUID', async () => {
    const auth = await bearer(randomUUID());
    const missing = await request(fx.app).get(`/api/chat/history/${randomUUID()}`).set('Authorization', auth).expect(404);
    expect(missing.body.error.code).toBe('not_found');
    await request(fx.app).get(`/api/chat/history/${randomUUID()}`).set('Authorization', await bearer(randomUUID(), { admin: true })).expect(404);
    await request(fx.app).get('/api/chat/history/123').set('Authorization', auth).expect(400);
  });
});

describe('GET /api/chat/history/{id} with a workspace', () => {
  const READER = randomUUID();

  /** The fixture's app over the same backend with a workspace whose page-with-reads fails or answers as told, counting reads. */
  function appWith(options: { reads: 'fail' | 'answer' }): { app: Express; calls: { history: number; historyWithReads: number } } {
    const calls = { history: 0, historyWithReads: 0 };
    const store = new Proxy(fx.store, {
      get: (target, property) => {
        const value: unknown = Reflect.get(target, property, target);
        if (property === 'history') calls.history += 1;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const historyWithReads: WorkspaceStore['historyWithReads'] = async (sessionId, range) => {
      calls.historyWithReads += 1;
      if (options.reads === 'fail') throw new Error('store down');
      return { page: await fx.store.history(sessionId, range), reads: [{ userId: READER, seq: 1 }] };
    };
    const workspace = { historyWithReads } as Pick<WorkspaceStore, 'historyWithReads'> as WorkspaceStore;
    const config = loadConfig({ JWT_SECRET: SECRET }, { requireAuth: true });
    const directory = new SessionDirectory({ state: fx.state, store, queue: fx.queue });
    const app = createApiApp({ config, verifier: createVerifier(config), ports: { ...fx.ports, store, directory, workspace }, logger: createLogger('session-api', 'silent') });
    return { app, calls };
  }

  it('answers what the membership check says first, whatever the read begun beside it did', async () => {
    const sessionId = await sessionOf(READER);
    for (const reads of ['fail', 'answer'] as const) {
      const { app } = appWith({ reads });
      const stranger = await request(app).get(`/api/chat/history/${sessionId}`).set('Authorization', await bearer(randomUUID()));
      expect([reads, stranger.status, stranger.body]).toEqual([reads, 403, { error: expect.objectContaining({ code: 'forbidden' }) }]);
      const unknown = await request(app).get(`/api/chat/history/${randomUUID()}`).set('Authorization', await bearer(READER));
      expect([reads, unknown.status, unknown.body.error.code]).toEqual([reads, 404, 'not_found']);
    }
    const member = await request(appWith({ reads: 'fail' }).app).get(`/api/chat/history/${sessionId}`).set('Authorization', await bearer(READER));
    expect([member.status, member.body.error.code]).toEqual([503, 'unavailable']);
    expect(member.body.error.message).toBe('The store is unavailable; try again.');
  });

  it('gives a member and an admin the page with the read cursors, read together in one call', async () => {
    const sessionId = await sessionOf(READER);
    const { app, calls } = appWith({ reads: 'answer' });
    for (const auth of [await bearer(READER), await bearer(randomUUID(), { admin: true })]) {
      const res = await request(app).get(`/api/chat/history/${sessionId}`).set('Authorization', auth).expect(200);
      expect(res.body).toEqual({ messages: [], hasMore: false, reads: [{ userId: READER, seq: 1 }] });
    }
    // The admin's check reads the session from the store, not its history.
    expect(calls).toEqual({ history: 0, historyWithReads: 2 });
  });

  it('gives the same pages as without a workspace, joined with live state, followed by the cursors', async () => {
    const owner = randomUUID();
    const sessionId = await sessionOf(owner);
    const auth = await bearer(owner);
    for (let i = 1; i <= 8; i++) await request(fx.app).post(`/api/chat/sessions/${sessionId}/messages`).set('Authorization', auth).send({ body: `w${i}` }).expect(201);
    // 1..5 written, 6..8 only in live state (a list of three), as above.
    await fx.store.insertMessages(fx.queue.published.filter((m) => m.sessionId === sessionId && m.seq <= 5));
    await fx.workspace.moveReadCursor(sessionId, owner, 4);
    const config = loadConfig({ JWT_SECRET: SECRET }, { requireAuth: true });
    const withWorkspace = createApiApp({ config, verifier: createVerifier(config), ports: { ...fx.ports, workspace: fx.workspace }, logger: createLogger('session-api', 'silent') });
    for (const query of ['', '?limit=4', '?limit=3&before=7', '?limit=3&before=4', '?limit=3&after=3', '?limit=3&after=5', '?after=8']) {
      const alone = await request(fx.app).get(`/api/chat/history/${sessionId}${query}`).set('Authorization', auth).expect(200);
      const joined = await request(withWorkspace).get(`/api/chat/history/${sessionId}${query}`).set('Authorization', auth).expect(200);
      expect([query, joined.text]).toEqual([query, JSON.stringify({ ...alone.body, reads: [{ userId: owner, seq: 4 }] })]);
    }
  });
});
