import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { SEARCH_MAX_QUERY_CHARS, type ChatMessage, type SearchHit, type SearchResponse } from '@chat/protocol';
import { NATS, POSTGRES, REDIS, realServicesAvailable } from '../support/services.ts';
import { startStack, type StackKind } from '../support/stack.ts';
import { Harness } from './harness.ts';

const kinds: StackKind[] = (await realServicesAvailable(POSTGRES, REDIS, NATS)) ? ['embedded', 'services'] : ['embedded'];

type Answer = SearchResponse & { error?: { code: string; message: string } };

/** Each highlighted piece of a hit's body, as the UI would mark it. */
function marked(hit: SearchHit): string[] {
  return hit.highlights.map((range) => hit.body.slice(range.start, range.end));
}

function expectRangesInside(hit: SearchHit): void {
  let previousEnd = 0;
  for (const range of hit.highlights) {
    expect(range.start).toBeGreaterThanOrEqual(previousEnd);
    expect(range.end).toBeGreaterThan(range.start);
    expect(range.end).toBeLessThanOrEqual(hit.body.length);
    previousEnd = range.end;
  }
}

describe.each(kinds)('search over the %s backend', (kind) => {
  let h: Harness;
  const [alice, bob, outsider] = [randomUUID(), randomUUID(), randomUUID()];
  let sessionId: string;
  let stored: ChatMessage[];

  const BODIES = [
    'The Q3 forecast looks weak',
    'Revenue forecast: see the attached figures',
    'Lunch at noon?',
    'FORECAST revised upward, forecast again',
    '<img src=x onerror=alert(1)> forecast in markup',
    'Ünïcode wörds and émoji 😀 forecast',
  ];

  /** Posts over REST, as the finance backend would; the message's seq. */
  async function post(sender: string, body: string): Promise<number> {
    const answer = await h.api<ChatMessage>('POST', `/api/chat/sessions/${sessionId}/messages`, { token: await h.stack.token(sender, { name: sender === alice ? 'Alice' : 'Bob' }), body: { body } });
    expect(answer.status).toBe(201);
    return answer.body.seq;
  }

  async function search(query: string, userId = alice, options: { admin?: boolean; session?: string } = {}): Promise<{ status: number; body: Answer }> {
    const token = await h.stack.token(userId, { admin: options.admin ?? false });
    return h.api<Answer>('GET', `/api/chat/sessions/${options.session ?? sessionId}/search${query}`, { token });
  }

  beforeAll(async () => {
    h = new Harness(await startStack(kind));
    sessionId = await h.createSession([alice, bob]);
    for (const [i, body] of BODIES.entries()) await post(i % 2 === 0 ? alice : bob, body);
    stored = await h.persisted(sessionId, BODIES.length);
    // Starting the embedded stack (PGlite and its migrations) takes a while on a busy machine.
  }, 300_000);
  afterAll(async () => {
    h.closeAll();
    await h.stack.stop();
  });

  it('finds the messages holding a word, any case, newest first, with the sender and the word marked', async () => {
    const answer = await search('?q=Forecast');
    expect(answer.status).toBe(200);
    expect(answer.body.nextBefore).toBeNull();
    expect(answer.body.hits.map((hit) => hit.seq)).toEqual([6, 5, 4, 2, 1]);
    const [unicode, markup, twice] = answer.body.hits;
    expect(twice).toMatchObject({ id: stored[3]?.id, userId: bob, userName: 'Bob', body: BODIES[3], timestamp: stored[3]?.timestamp });
    expect(marked(twice!)).toEqual(['FORECAST', 'forecast']);
    expect(marked(markup!)).toEqual(['forecast']);
    expect(marked(unicode!)).toEqual(['forecast']);
    for (const hit of answer.body.hits) expectRangesInside(hit);
  });

  it('reads web-search syntax: a quoted phrase, or, and an excluded word', async () => {
    expect((await search(`?q=${encodeURIComponent('"forecast looks"')}`)).body.hits.map((hit) => hit.seq)).toEqual([1]);
    expect((await search(`?q=${encodeURIComponent('lunch or revenue')}`)).body.hits.map((hit) => hit.seq)).toEqual([3, 2]);
    const excluded = await search(`?q=${encodeURIComponent('forecast -revised')}`);
    expect(excluded.body.hits.map((hit) => hit.seq)).toEqual([6, 5, 2, 1]);
    expect(excluded.body.hits.flatMap(marked)).toEqual(['forecast', 'forecast', 'forecast', 'forecast']);
    const unicode = await search(`?q=${encodeURIComponent('ÜNÏCODE WÖRDS')}`);
    expect(unicode.body.hits.map(marked)).toEqual([['Ünïcode', 'wörds']]);
  });

  it('pages by seq, older pages through nextBefore, and admins search too', async () => {
    const first = await search('?q=forecast&limit=2');
    expect(first.body).toMatchObject({ nextBefore: 5 });
    expect(first.body.hits.map((hit) => hit.seq)).toEqual([6, 5]);
    const second = await search(`?q=forecast&limit=2&before=${first.body.nextBefore}`);
    expect(second.body.hits.map((hit) => hit.seq)).toEqual([4, 2]);
    expect(second.body.nextBefore).toBe(2);
    const last = await search(`?q=forecast&limit=2&before=${second.body.nextBefore}`);
    expect(last.body).toMatchObject({ nextBefore: null });
    expect(last.body.hits.map((hit) => hit.seq)).toEqual([1]);

    const admin = await search('?q=lunch', randomUUID(), { admin: true });
    expect(admin.status).toBe(200);
    expect(admin.body.hits.map((hit) => hit.seq)).toEqual([3]);
  });

  it('finds nothing, without an error, for text with no words in it', async () => {
    const answer = await search(`?q=${encodeURIComponent('!!! ... ---')}`);
    expect(answer).toMatchObject({ status: 200, body: { hits: [], nextBefore: null } });
  });

  it('refuses bad input with a clear 4xx and changes nothing', async () => {
    const before = await h.stack.store.history(sessionId, { limit: 500, after: 0 });
    const refusals: [string, number, string, RegExp?][] = [
      ['', 400, 'invalid_input', /q/],
      ['?q=', 400, 'invalid_input', /q/],
      ['?q=%20%20%09', 400, 'invalid_input', /q: give some text/],
      [`?q=${'a'.repeat(SEARCH_MAX_QUERY_CHARS + 1)}`, 400, 'invalid_input', /q/],
      ['?q=a%00b', 400, 'invalid_input', /q/],
      ['?q=a&q=b', 400, 'invalid_input', /q/],
      ['?q=a&limit=0', 400, 'invalid_input', /limit/],
      ['?q=a&limit=101', 400, 'invalid_input', /limit/],
      ['?q=a&limit=ten', 400, 'invalid_input', /limit/],
      ['?q=a&before=-1', 400, 'invalid_input', /before/],
      ['?q=a&before=1.5', 400, 'invalid_input', /before/],
    ];
    for (const [query, status, code, message] of refusals) {
      const answer = await search(query);
      expect({ query, status: answer.status, code: answer.body.error?.code }).toEqual({ query, status, code });
      if (message) expect(answer.body.error?.message).toMatch(message);
    }
    expect(await search(`?q=${'a'.repeat(SEARCH_MAX_QUERY_CHARS)}`)).toMatchObject({ status: 200 });

    expect(await search('?q=forecast', outsider)).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await search('?q=forecast', alice, { session: randomUUID() })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await search('?q=forecast', randomUUID(), { admin: true, session: randomUUID() })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await search('?q=forecast', alice, { session: 'not-a-uuid' })).toMatchObject({ status: 400, body: { error: { code: 'invalid_input' } } });
    expect((await h.api('GET', `/api/chat/sessions/${sessionId}/search?q=forecast`)).status).toBe(401);

    expect(await h.stack.store.history(sessionId, { limit: 500, after: 0 })).toEqual(before);
  });

  it('never fails on any text: every answer is a 200 or a 400, and every highlight lies within its hit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('"', '-', 'or', '" or -', '\\', "'", ':*', '&|!()<->')), async (text) => {
        const answer = await search(`?q=${encodeURIComponent(text)}`);
        expect([200, 400]).toContain(answer.status);
        if (answer.status === 200) for (const hit of answer.body.hits) expectRangesInside(hit);
      }),
      { numRuns: 60 },
    );
  });

  it('finds a message by any word it contains, and marks that word', async () => {
    const word = fc.stringMatching(/^[a-zA-Z0-9àéîõüßøæжщы]{1,16}$/);
    await fc.assert(
      fc.asyncProperty(word, fc.constantFrom('', 'See ', 'x, '), fc.constantFrom('', ' now', '! Done.'), async (w, before, after) => {
        const body = `${before}${w}${after}`;
        const seq = await post(bob, body);
        await h.persisted(sessionId, seq);
        const answer = await search(`?q=${encodeURIComponent(w)}&limit=100`);
        expect(answer.status).toBe(200);
        const hit = answer.body.hits.find((candidate) => candidate.seq === seq);
        expect(hit?.body).toBe(body);
        expect(marked(hit!)).toContain(w);
      }),
      { numRuns: 15 },
    );
  });
});
