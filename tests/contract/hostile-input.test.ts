import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { NATS, POSTGRES, REDIS, realServicesAvailable } from '../support/services.ts';
import type { StackKind } from '../support/stack.ts';
import { Harness } from './harness.ts';

// Issue 11 over REST, on both backends: hostile paths and bodies get a 4xx with a contract error
// body, never a 5xx, and a refused body consumes no seq.
const kinds: StackKind[] = (await realServicesAvailable(POSTGRES, REDIS, NATS)) ? ['embedded', 'services'] : ['embedded'];

const errorBody = (code: string) => ({ error: { code, message: expect.any(String) } });

describe.each(kinds)('hostile REST input over the %s backend', (kind) => {
  const h = Harness.forSuite(kind);

  it('answers paths that do not decode with 400 invalid_input, never 500', async () => {
    const token = await h.stack.token(randomUUID());
    for (const path of ['/api/chat/sessions/%', '/api/chat/sessions/%zz/messages', '/api/chat/history/%E0%A4%A', '/api/chat/sessions/%ff/members']) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const answer = await h.api(method, path, { token });
        expect({ method, path, ...answer }).toEqual({ method, path, status: 400, body: errorBody('invalid_input') });
      }
    }
  });

  it('answers metadata nested thousands of levels deep (about 12 KB) with 400, and the next message still gets seq 1', async () => {
    const alice = randomUUID();
    const sessionId = await h.createSession([alice]);
    const token = await h.stack.token(alice);
    const deep = '{"a":'.repeat(2400) + '1' + '}'.repeat(2400);
    const refused = await h.api('POST', `/api/chat/sessions/${sessionId}/messages`, { token, body: `{"body":"hi","metadata":${deep}}` });
    expect(refused).toEqual({ status: 400, body: errorBody('invalid_input') });
    const created = await h.api('POST', '/api/chat/sessions', { token, body: `{"metadata":${deep}}` });
    expect(created).toEqual({ status: 400, body: errorBody('invalid_input') });
    const next = await h.api<{ seq: number }>('POST', `/api/chat/sessions/${sessionId}/messages`, { token, body: { body: 'after' } });
    expect(next.status).toBe(201);
    expect(next.body.seq).toBe(1);
  });

  it('refuses U+0000 and unpaired surrogates anywhere in a posted message with 400 before a seq is reserved, and stores only what it acked', async () => {
    const alice = randomUUID();
    const sessionId = await h.createSession([alice]);
    const token = await h.stack.token(alice);
    const watcher = await h.chat(1, sessionId, alice);
    for (const body of [{ body: 'a\u0000b' }, { body: 'ok', metadata: { k: '\u0000' } }, { body: 'ok', metadata: { ['\u0000']: 1 } }, { body: 'ok', clientMsgId: '\u0000' }, { body: '\ud800' }]) {
      expect(await h.api('POST', `/api/chat/sessions/${sessionId}/messages`, { token, body })).toEqual({ status: 400, body: errorBody('invalid_input') });
    }
    const accepted = await h.api<{ seq: number; id: string }>('POST', `/api/chat/sessions/${sessionId}/messages`, { token, body: { body: 'stored', metadata: { k: 'v' } } });
    expect(accepted.status).toBe(201);
    expect(accepted.body.seq).toBe(1);
    const live = await watcher.nextOfType('message');
    expect(live).toMatchObject({ seq: 1, body: 'stored' });
    const stored = await h.persisted(sessionId, 1);
    expect(stored.map((message) => [message.seq, message.body])).toEqual([[1, 'stored']]);
  });

  it('refuses a session title holding U+0000 with 400, not with a store failure', async () => {
    const answer = await h.api('POST', '/api/chat/sessions', { token: await h.stack.token(randomUUID()), body: { title: 'nul\u0000title' } });
    expect(answer).toEqual({ status: 400, body: errorBody('invalid_input') });
  });
});
