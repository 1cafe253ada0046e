import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MAX_PERSON_NAME_CHARS, PEOPLE_MAX_LIMIT, personName, type PeopleList } from '@chat/protocol';
import { NATS, POSTGRES, REDIS, realServicesAvailable } from '../support/services.ts';
import { startStack, type StackKind } from '../support/stack.ts';
import { Harness, sleep } from './harness.ts';

const kinds: StackKind[] = (await realServicesAvailable(POSTGRES, REDIS, NATS)) ? ['embedded', 'services'] : ['embedded'];

type PeopleAnswer = { status: number; body: PeopleList & { error?: { code: string; message: string } } };

/** Characters that have broken name handling elsewhere: NUL and controls, lone surrogates, LIKE wildcards, case oddities, bidi marks, pairs. */
const ODD = ['\u0000', '\u0007', '\u007f', '\ud800', '\udfff', '%', '_', '\\', "'", '"', 'İ', 'ß', 'Σ', 'ς', '\u200b', '\u202e', '\ufeff', '😀', 'e\u0301', ' ', '\t', '\n'];
const nameChar = fc.oneof(fc.constantFrom(...ODD), fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }));

describe.each(kinds)('people by name over the %s backend', (kind) => {
  const h = Harness.forSuite(kind);

  async function people(query: string, token?: string): Promise<PeopleAnswer> {
    return h.api('GET', `/api/chat/people${query}`, { token: token ?? (await h.stack.token(randomUUID())) });
  }

  /** Asks until the person shows up: the directory is written beside the request, not before its answer. */
  async function findEventually(q: string, id: string, token: string, timeoutMs = 5_000): Promise<PeopleAnswer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await people(`?${new URLSearchParams({ q, limit: String(PEOPLE_MAX_LIMIT) }).toString()}`, token);
      if (answer.status !== 200 || answer.body.people.some((person) => person.id === id) || Date.now() > deadline) return answer;
      await sleep(50);
    }
  }

  it('refuses a caller without a token or with a bad one', async () => {
    expect((await h.api('GET', '/api/chat/people?q=a')).status).toBe(401);
    const forged = await h.api('GET', '/api/chat/people?q=a', { token: 'not.a.token' });
    expect([forged.status, forged.body.error.code]).toEqual([401, 'unauthorized']);
  });

  it('finds a signed-in user by any part of their name, case-insensitively, prefix matches first, ids and names only', async () => {
    const tag = randomBytes(4).toString('hex');
    const [ada, bob, cleo] = [randomUUID(), randomUUID(), randomUUID()];
    // One asks the API, one opens a socket on a gateway, one does both: each path records.
    const adaToken = await h.stack.token(ada, { name: `Ada ${tag}Lovelace` });
    expect((await people('?q=x', adaToken)).status).toBe(200);
    const session = await h.createSession([bob, cleo]);
    const bobSocket = h.open(1, `/ws/chat/${session}?token=${await h.stack.token(bob, { name: `${tag}Bob Builder` })}`);
    await bobSocket.nextOfType('welcome');
    const cleoToken = await h.stack.token(cleo, { name: `Cleo ${tag.toUpperCase()}` });
    expect((await people('?q=x', cleoToken)).status).toBe(200);

    const asker = await h.stack.token(randomUUID());
    const found = await findEventually(tag, cleo, asker);
    const again = found.body.people.some((person) => person.id === bob) ? found : await findEventually(tag, bob, asker);
    expect(again.status).toBe(200);
    expect(again.body.people).toEqual([
      { id: bob, name: `${tag}Bob Builder` },
      { id: ada, name: `Ada ${tag}Lovelace` },
      { id: cleo, name: `Cleo ${tag.toUpperCase()}` },
    ]);
    expect(Object.keys(again.body.people[0] ?? {}).sort()).toEqual(['id', 'name']);
    expect((await people(`?q=${tag.toUpperCase()}B&limit=5`, asker)).body.people).toEqual([{ id: bob, name: `${tag}Bob Builder` }]);
    expect((await people(`?q=${tag}&limit=1`, asker)).body.people).toEqual([{ id: bob, name: `${tag}Bob Builder` }]);
    expect((await people(`?q=${tag}zzz`, asker)).body.people).toEqual([]);
  });

  it('follows a name change at once, and keeps no one whose token carries no name', async () => {
    const tag = randomBytes(4).toString('hex');
    const dora = randomUUID();
    await findEventually(`old ${tag}`, dora, await h.stack.token(dora, { name: `Old ${tag}` }));
    const renamed = await findEventually(`new ${tag}`, dora, await h.stack.token(dora, { name: `New ${tag}` }));
    expect(renamed.body.people).toEqual([{ id: dora, name: `New ${tag}` }]);
    expect((await people(`?q=old ${tag}`)).body.people).toEqual([]);
    const nameless = randomUUID();
    await people(`?q=${nameless}`, await h.stack.token(nameless));
    await sleep(200);
    expect((await people(`?q=${nameless}`)).body.people).toEqual([]);
  });

  it('refuses a bad query with 400 naming the field, and bounds the limit', async () => {
    const bad = ['?limit=0', `?limit=${PEOPLE_MAX_LIMIT + 1}`, '?limit=two', '?limit=1.5', '?limit=-1', `?q=${'a'.repeat(MAX_PERSON_NAME_CHARS + 1)}`, '?q=a&q=b'];
    for (const query of bad) {
      const answer = await people(query);
      expect([query, answer.status, answer.body.error?.code]).toEqual([query, 400, 'invalid_input']);
      expect(answer.body.error?.message).toMatch(/^query: (q|limit): /);
    }
    const listed = await people(`?limit=${PEOPLE_MAX_LIMIT}`);
    expect(listed.status).toBe(200);
    expect(listed.body.people.length).toBeLessThanOrEqual(PEOPLE_MAX_LIMIT);
    expect((await people('?q=&limit=2')).body.people.length).toBeLessThanOrEqual(2);
  });

  it('stores whatever name a token carries and finds that person by it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: nameChar, maxLength: 40 }), async (raw) => {
        const id = randomUUID();
        // A tag keeps each run's person apart from every other run's; the odd part is all the rest.
        const name = `${raw}#${randomBytes(4).toString('hex')}`;
        const kept = personName(name.slice(0, MAX_PERSON_NAME_CHARS));
        const found = await findEventually(kept, id, await h.stack.token(id, { name }));
        expect(found.status).toBe(200);
        expect(found.body.people).toContainEqual({ id, name: kept });
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('answers any search text with people or a clear 400, never a failure', async () => {
    const token = await h.stack.token(randomUUID(), { name: 'Searcher' });
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: nameChar, maxLength: 120 }), async (q) => {
        const answer = await people(`?${new URLSearchParams({ q }).toString()}`, token);
        const length = new URLSearchParams({ q }).get('q')?.length ?? 0;
        expect([answer.status, answer.body.error?.code]).toEqual(length > MAX_PERSON_NAME_CHARS ? [400, 'invalid_input'] : [200, undefined]);
      }),
      { numRuns: 60 },
    );
    // Bytes that are not UTF-8 and a lone percent sign come through the query parser as text.
    for (const raw of ['%FF%FE', '%00', '%', '%ED%A0%80']) expect([raw, (await people(`?q=${raw}`, token)).status]).toEqual([raw, 200]);
  }, 120_000);
});

describe('people from the finance backend’s lookup (PEOPLE_LOOKUP_URL)', () => {
  const FROM_FINANCE = '00000000-0000-4000-8000-00000000f1a0';
  let lookup: Server;
  let slow = false;
  let h: Harness;

  beforeAll(async () => {
    lookup = createServer((req, res) => {
      const q = new URL(req.url ?? '/', 'http://lookup').searchParams.get('q') ?? '';
      const answer = () => res.setHeader('content-type', 'application/json').end(JSON.stringify({ people: [{ id: FROM_FINANCE, name: `Finance ${q}` }] }));
      if (slow) setTimeout(answer, 3_000).unref();
      else answer();
    });
    await new Promise<void>((resolve) => lookup.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(lookup.address() as AddressInfo).port}/people`;
    h = new Harness(await startStack('embedded', { env: { PEOPLE_LOOKUP_URL: url, PEOPLE_LOOKUP_TIMEOUT_MS: '300' } }));
  });
  afterAll(async () => {
    await h.stack.stop();
    lookup.closeAllConnections();
    await new Promise((resolve) => lookup.close(resolve));
  });

  it('lists the lookup’s people first, then those seen, and answers from those seen alone when the lookup is slow', async () => {
    const tag = randomBytes(4).toString('hex');
    const seen = randomUUID();
    const token = await h.stack.token(seen, { name: `Seen ${tag}` });
    const ask = () => h.api<PeopleList>('GET', `/api/chat/people?q=${tag}`, { token });
    let answer = await ask();
    for (let i = 0; i < 50 && answer.body.people.length < 2; i++) {
      await sleep(50);
      answer = await ask();
    }
    expect(answer.body.people).toEqual([
      { id: FROM_FINANCE, name: `Finance ${tag}` },
      { id: seen, name: `Seen ${tag}` },
    ]);
    slow = true;
    const started = Date.now();
    const fallback = await ask();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect([fallback.status, fallback.body.people]).toEqual([200, [{ id: seen, name: `Seen ${tag}` }]]);
  });
});
