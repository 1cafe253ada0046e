import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { TestClient } from '@chat/gateway/testing';
import type { ChatMessage, HistoryResponse, SessionList } from '@chat/protocol';
import { NATS, POSTGRES, REDIS, realServicesAvailable } from '../support/services.ts';
import { startStack, type StackKind } from '../support/stack.ts';
import { Harness, sleep } from './harness.ts';

const kinds: StackKind[] = (await realServicesAvailable(POSTGRES, REDIS, NATS)) ? ['embedded', 'services'] : ['embedded'];

const LINK_HOST = 'analysis.example.com';

/** A result card that follows the schema; tests break one part of it at a time. */
function card(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'analysis_result',
    version: 1,
    title: 'Q3 VaR',
    summary: 'Value at risk rose after the rate shock.',
    figures: [
      { label: 'VaR 99%', value: 1.25, unit: 'M EUR', delta: 0.1 },
      { label: 'Expected shortfall', value: 1.9, unit: 'M EUR', delta: -0.05 },
    ],
    table: { columns: ['Desk', 'VaR'], rows: [['Rates', 0.8], ['FX', 0.45]] },
    link: { label: 'Open the analysis', url: `https://${LINK_HOST}/analyses/42` },
    ...overrides,
  };
}

async function sendAll(client: TestClient, count: number, prefix: string): Promise<void> {
  for (let i = 1; i <= count; i++) client.send({ type: 'send', clientMsgId: `${prefix}${i}`, body: `${prefix} ${i}` });
  await client.take('ack', count);
}

describe.each(kinds)('the analyst workspace over the %s backend', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = new Harness(await startStack(kind, { env: { ANALYSIS_LINK_HOSTS: `${LINK_HOST},other.example.com` } }));
  });
  afterEach(() => h.closeAll());
  afterAll(async () => {
    await h.stack.stop();
  });

  async function createSession(members: string[], title: string, metadata: Record<string, unknown> = {}): Promise<string> {
    const answer = await h.api<{ id: string }>('POST', '/api/chat/sessions', { token: await h.adminToken(), body: { title, members, metadata } });
    expect(answer.status).toBe(201);
    return answer.body.id;
  }

  async function list(userId: string, query = '', admin = false): Promise<{ status: number; body: SessionList & { error?: { code: string; message: string } } }> {
    const token = admin ? await h.adminToken() : await h.stack.token(userId);
    return h.api('GET', `/api/chat/sessions${query}`, { token });
  }

  describe('my sessions', () => {
    it('lists only the caller’s sessions, newest activity first, with the last message and unread counts from the read cursor', async () => {
      const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
      const older = await createSession([alice, bob], 'older', { analysisId: `a-${randomUUID()}` });
      const newer = await createSession([alice, bob], 'newer');
      const quiet = await createSession([alice], 'quiet');
      await createSession([carol], 'not alice’s');
      const bobOnOlder = await h.chat(0, older, bob);
      await sendAll(bobOnOlder, 3, 'older');
      await h.persisted(older, 3);
      await sleep(5);
      const bobOnNewer = await h.chat(1, newer, bob);
      await sendAll(bobOnNewer, 2, 'newer');
      const aliceOnNewer = await h.chat(0, newer, alice);
      await sendAll(aliceOnNewer, 1, 'mine');
      await h.persisted(newer, 3);

      const first = await list(alice);
      expect(first.status).toBe(200);
      expect(first.body.sessions.map((s) => s.id)).toEqual([newer, older, quiet]);
      const [onNewer, onOlder, onQuiet] = first.body.sessions;
      // Her own message is never unread.
      expect(onNewer).toMatchObject({ title: 'newer', unread: 2, readSeq: 0, lastMessage: { seq: 3, userId: alice, body: 'mine 1' }, analysisStatus: null });
      expect(onOlder).toMatchObject({ title: 'older', unread: 3, lastMessage: { seq: 3, userId: bob, body: 'older 3' } });
      expect(onOlder?.analysisId).toMatch(/^a-/);
      expect(onQuiet).toMatchObject({ unread: 0, lastMessage: null, analysisId: null });
      expect(Date.parse(onNewer!.lastActivityAt)).toBeGreaterThanOrEqual(Date.parse(onOlder!.lastActivityAt));

      const aliceOnOlder = await h.chat(1, older, alice);
      aliceOnOlder.send({ type: 'read', seq: 2 });
      const deadline = Date.now() + 5_000;
      let again = await list(alice);
      while (again.body.sessions.find((s) => s.id === older)?.unread !== 1 && Date.now() < deadline) {
        await sleep(50);
        again = await list(alice);
      }
      expect(again.body.sessions.find((s) => s.id === older)).toMatchObject({ unread: 1, readSeq: 2 });
      expect((await list(carol)).body.sessions.map((s) => s.title)).toEqual(['not alice’s']);
    });

    it('pages through every session once with nextCursor, and refuses a bad cursor or limit', async () => {
      const dana = randomUUID();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await createSession([dana], `page ${i}`));
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await list(dana, `?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
        expect(page.status).toBe(200);
        expect(page.body.sessions.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.sessions.map((s) => s.id));
        cursor = page.body.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual([...ids].reverse());
      for (const bad of ['?cursor=bm90LWEtY3Vyc29y', '?cursor=%2F%2F', '?limit=0', '?limit=101', '?limit=two']) {
        const refused = await list(dana, bad);
        expect([bad, refused.status, refused.body.error?.code]).toEqual([bad, 400, 'invalid_input']);
      }
    });

    it('finds the session of an analysis: any for the finance backend (admin), only their own for a member', async () => {
      const [erin, frank] = [randomUUID(), randomUUID()];
      const analysisId = `analysis-${randomUUID()}`;
      const sessionId = await createSession([erin], 'the analysis', { analysisId });
      await createSession([erin], 'another');
      const asAdmin = await list('', `?analysisId=${analysisId}`, true);
      expect(asAdmin.body.sessions.map((s) => s.id)).toEqual([sessionId]);
      expect(asAdmin.body.sessions[0]).toMatchObject({ analysisId, title: 'the analysis' });
      expect((await list(erin, `?analysisId=${analysisId}`)).body.sessions.map((s) => s.id)).toEqual([sessionId]);
      expect((await list(frank, `?analysisId=${analysisId}`)).body.sessions).toEqual([]);
      expect((await list('', '?analysisId=nothing-like-it', true)).body.sessions).toEqual([]);
      expect((await list(erin, `?analysisId=${'x'.repeat(201)}`)).status).toBe(400);
    });

    it('refuses a caller without a token', async () => {
      const answer = await h.api('GET', '/api/chat/sessions');
      expect(answer.status).toBe(401);
    });
  });

  describe('analysis results as cards', () => {
    it('accepts a card over REST and over the socket, and keeps its metadata and the plain body as sent', async () => {
      const [alice] = [randomUUID()];
      const sessionId = await createSession([alice], 'cards');
      const posted = await h.api<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { token: await h.adminToken(), body: { body: 'Q3 VaR: 1.25M EUR (+0.1)', metadata: card() } });
      expect(posted.status).toBe(201);
      expect(posted.body).toMatchObject({ seq: 1, body: 'Q3 VaR: 1.25M EUR (+0.1)', metadata: card() });
      const chat = await h.chat(1, sessionId, alice);
      chat.send({ type: 'send', clientMsgId: 'card', body: 'fallback', metadata: card({ link: { label: 'Other', url: 'https://other.example.com/x' } }) });
      await expect(chat.nextOfType('ack')).resolves.toMatchObject({ seq: 2 });
      const stored = await h.persisted(sessionId, 2);
      expect(stored.map((m) => m.metadata)).toEqual([card(), card({ link: { label: 'Other', url: 'https://other.example.com/x' } })]);
      // Other metadata stays free-form.
      const free = await h.api<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { token: await h.adminToken(), body: { body: 'note', metadata: { kind: 'report', anything: [1, { deep: true }] } } });
      expect(free.status).toBe(201);
    });

    const broken: [string, Record<string, unknown>, RegExp][] = [
      ['no title', card({ title: undefined }), /title/],
      ['a newer version', card({ version: 2 }), /version must be 1/],
      ['a figure without a number', card({ figures: [{ label: 'VaR', value: 'high' }] }), /figures\.0\.value/],
      ['a figure without a label', card({ figures: [{ label: '', value: 1 }] }), /figures\.0\.label/],
      ['a row of the wrong width', card({ table: { columns: ['A', 'B'], rows: [['only one']] } }), /metadata\.table\.rows\.0: analysis result: has 1 cells; the table has 2 columns/],
      ['an unknown field', card({ html: '<b>hi</b>' }), /html/],
      ['a plain http link', card({ link: { label: 'x', url: `http://${LINK_HOST}/a` } }), /https URL/],
      ['too many figures', card({ figures: Array.from({ length: 13 }, (_, i) => ({ label: `f${i}`, value: i })) }), /figures/],
    ];

    it.each(broken)('refuses a card with %s on both paths, naming the field, and stores nothing', async (_name, metadata, message) => {
      const alice = randomUUID();
      const sessionId = await createSession([alice], 'broken cards');
      const rest = await h.api('POST', `/api/chat/sessions/${sessionId}/messages`, { token: await h.adminToken(), body: { body: 'fallback', metadata: JSON.parse(JSON.stringify(metadata)) as unknown } });
      expect(rest.status).toBe(400);
      expect(rest.body.error.code).toBe('invalid_input');
      expect(rest.body.error.message).toMatch(message);
      const chat = await h.chat(0, sessionId, alice);
      chat.send({ type: 'send', clientMsgId: 'broken', body: 'fallback', metadata });
      const error = await chat.nextOfType('error');
      expect(error).toMatchObject({ code: 'invalid_frame', clientMsgId: 'broken' });
      expect(String(error['message'])).toMatch(message);
      // No seq was used: the next message is the first.
      chat.send({ type: 'send', clientMsgId: 'fine', body: 'fine' });
      await expect(chat.nextOfType('ack')).resolves.toMatchObject({ seq: 1 });
    });

    it('refuses a link to a host not on ANALYSIS_LINK_HOSTS on both paths', async () => {
      const alice = randomUUID();
      const sessionId = await createSession([alice], 'links');
      for (const url of ['https://evil.example.net/analyses/42', `https://${LINK_HOST}.evil.example.net/`, `https://evil.example.net/?next=${LINK_HOST}`]) {
        const metadata = card({ link: { label: 'Open', url } });
        const rest = await h.api('POST', `/api/chat/sessions/${sessionId}/messages`, { token: await h.adminToken(), body: { body: 'fallback', metadata } });
        expect([url, rest.status, rest.body.error.code]).toEqual([url, 400, 'invalid_input']);
        expect(rest.body.error.message).toMatch(/is not on the list of analysis hosts/);
        const chat = await h.chat(1, sessionId, alice);
        chat.send({ type: 'send', clientMsgId: 'link', body: 'fallback', metadata });
        await expect(chat.nextOfType('error')).resolves.toMatchObject({ code: 'invalid_frame', clientMsgId: 'link' });
      }
      const page = await h.api<HistoryResponse>('GET', `/api/chat/history/${sessionId}`, { token: await h.stack.token(alice) });
      expect(page.body.messages).toEqual([]);
    });
  });

  describe('analysis status', () => {
    it('sends a reported status live to status sockets on both replicas, and the latest to a socket that opens later', async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      const sessionId = await createSession([alice, bob], 'status');
      const onA = h.open(0, `/ws/status/${sessionId}?token=${await h.stack.token(alice)}`);
      const onB = h.open(1, `/ws/status/${sessionId}?token=${await h.stack.token(bob)}`);
      await onA.nextOfType('presence');
      await onB.nextOfType('presence');
      // Nothing reported yet: the presence frame is all an opening socket gets.
      await sleep(200);
      expect(onA.ofType('analysis_status')).toEqual([]);
      const report = async (body: unknown) => h.api<Record<string, unknown>>('PUT', `/api/chat/sessions/${sessionId}/analysis-status`, { token: await h.adminToken(), body });
      const queued = await report({ state: 'queued' });
      expect(queued.status).toBe(200);
      expect(queued.body).toMatchObject({ sessionId, state: 'queued' });
      for (const client of [onA, onB]) await expect(client.nextOfType('analysis_status')).resolves.toMatchObject({ type: 'analysis_status', sessionId, state: 'queued' });
      await report({ state: 'running', progress: 40 });
      for (const client of [onA, onB]) await expect(client.nextOfType('analysis_status')).resolves.toMatchObject({ state: 'running', progress: 40 });
      const failed = await report({ state: 'failed', reason: 'market data missing for 2026-09-30' });
      expect(failed.body).toMatchObject({ state: 'failed', reason: 'market data missing for 2026-09-30' });
      await onA.next((f) => f.type === 'analysis_status' && f['state'] === 'failed');

      const later = h.open(1, `/ws/status/${sessionId}?token=${await h.stack.token(alice)}`);
      await later.nextOfType('presence');
      const latest = await later.nextOfType('analysis_status');
      expect(latest).toMatchObject({ state: 'failed', reason: 'market data missing for 2026-09-30', sessionId });
      expect(latest['progress']).toBeUndefined();
      expect(later.frames.map((f) => f.type).slice(0, 2)).toEqual(['presence', 'analysis_status']);
      const listed = await list(alice);
      expect(listed.body.sessions.find((s) => s.id === sessionId)?.analysisStatus).toMatchObject({ state: 'failed', reason: 'market data missing for 2026-09-30' });
    });

    it('refuses a status from a non-admin, a bad status, and one for an unknown session, and changes nothing', async () => {
      const alice = randomUUID();
      const sessionId = await createSession([alice], 'refused status');
      const path = `/api/chat/sessions/${sessionId}/analysis-status`;
      const asMember = await h.api('PUT', path, { token: await h.stack.token(alice), body: { state: 'done' } });
      expect(asMember.status).toBe(403);
      expect(asMember.body.error.code).toBe('forbidden');
      const admin = await h.adminToken();
      for (const body of [{ state: 'paused' }, { state: 'running', progress: 101 }, { state: 'running', progress: -1 }, { state: 'failed' }, { state: 'failed', reason: '  ' }, { state: 'done', reason: 'x' }, { state: 'queued', extra: 1 }, 'not json']) {
        const answer = await h.api('PUT', path, { token: admin, body });
        expect([body, answer.status, answer.body.error.code]).toEqual([body, 400, 'invalid_input']);
      }
      const unknown = await h.api('PUT', `/api/chat/sessions/${randomUUID()}/analysis-status`, { token: admin, body: { state: 'done' } });
      expect(unknown.status).toBe(404);
      expect((await list(alice)).body.sessions.find((s) => s.id === sessionId)?.analysisStatus).toBeNull();
      const status = h.open(0, `/ws/status/${sessionId}?token=${await h.stack.token(alice)}`);
      await status.nextOfType('presence');
      await sleep(200);
      expect(status.ofType('analysis_status')).toEqual([]);
    });
  });
});
