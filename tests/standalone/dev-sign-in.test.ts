import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import fc from 'fast-check';
import type { EmbeddedChat } from '@chat/standalone';
import { startEmbeddedWeb } from '../e2e/embedded-web.ts';

/**
 * `POST /dev/token` of the one-process mode over real HTTP: only same-site JSON posts, names
 * in normal form, 413 for bodies over 1 KB (answered, not reset), and a clear error body for
 * everything it refuses.
 */
interface Answer {
  status: number;
  body: { error?: { code: string; message: string }; name?: string; userId?: string; token?: string };
}

let chat: EmbeddedChat;
let url: string;

beforeAll(async () => {
  ({ chat, url } = await startEmbeddedWeb('/nonexistent-web-root'));
}, 60_000);

afterAll(() => chat.stop(), 30_000);

/** One request on its own connection; `chunked` sends the body without a length, in pieces. */
function post(body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }, chunked = false): Promise<Answer> {
  const target = new URL('/dev/token', url);
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: chunked ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] }));
    });
    req.on('error', reject);
    if (chunked) {
      const bytes = Buffer.from(body);
      for (let at = 0; at < bytes.length; at += 256) req.write(bytes.subarray(at, at + 256));
      req.end();
    } else req.end(body);
  });
}

const named = (name: unknown) => JSON.stringify({ name });

describe('the development sign-in', () => {
  it('signs a name in and keeps it in normal form', async () => {
    const answer = await post(named('  Ｇｒａｃｅ  Hopper '));
    expect(answer.status).toBe(200);
    expect(answer.body.name).toBe('Grace Hopper');
    expect((await post(named('grace hopper'))).body.userId).toBe(answer.body.userId);
  });

  it('refuses a lookalike name with an invisible character, and says why', async () => {
    const answer = await post(named('Bob\u200b'));
    expect(answer).toEqual({ status: 400, body: { error: { code: 'invalid_input', message: 'name must not contain control or invisible characters (found U+200B)' } } });
  });

  it('refuses cross-site posts by Origin and by Fetch Metadata, and text/plain bodies', async () => {
    const json = { 'content-type': 'application/json' };
    const origin = await post(named('Eve'), { ...json, origin: 'http://evil.example' });
    expect(origin.status).toBe(403);
    expect(origin.body.error?.code).toBe('origin_refused');
    for (const site of ['cross-site', 'same-site']) {
      const answer = await post(named('Eve'), { ...json, 'sec-fetch-site': site });
      expect(answer.status).toBe(403);
      expect(answer.body.error?.message).toContain(site);
    }
    const plain = await post(named('Eve'), { 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    expect(plain.body.error?.message).toMatch(/application\/json/);
    // The page's own origin and a direct client (no Origin, no Fetch Metadata) are let in.
    expect((await post(named('Ada'), { ...json, origin: url, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await post(named('Ada'), json)).status).toBe(200);
  });

  it('answers 413 for a body over 1 KB, declared or streamed, rather than dropping the connection', async () => {
    const big = named('x'.repeat(2000));
    expect(await post(big)).toEqual({ status: 413, body: { error: { code: 'too_large', message: 'the body must be at most 1024 bytes' } } });
    expect((await post(big, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, true)).status).toBe(413);
    expect((await post(Buffer.alloc(256 * 1024, 'a'), { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, true)).status).toBe(413);
    // And still serves the next person.
    expect((await post(named('After Big'))).status).toBe(200);
  });

  it('answers any body with 200 for a valid name or a 4xx with an error code, never anything else', async () => {
    const bodies = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }).map(named),
      fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
      fc.uint8Array({ maxLength: 1400 }).map((bytes) => Buffer.from(bytes)),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const answer = await post(body);
        if (answer.status === 200) {
          expect(typeof answer.body.token).toBe('string');
          expect(answer.body.name?.normalize('NFKC')).toBe(answer.body.name);
          return;
        }
        expect([400, 413]).toContain(answer.status);
        expect(answer.body.error?.code).toMatch(/^(invalid_input|too_large)$/);
        expect(answer.body.error?.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 150, seed: 1101 },
    );
  }, 120_000);
});
