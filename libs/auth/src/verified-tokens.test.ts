import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { createTokenVerifier, type TokenVerifier } from './token-verifier.ts';
import { VerifiedTokens } from './verified-tokens.ts';

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const key = new TextEncoder().encode(secret);
const START = Date.UTC(2026, 0, 1);

/** A token of `secret` (or another) expiring `exp` s after START, valid from `nbf` s after START when given. */
function token(claims: { exp: number; nbf?: number; issuer?: string; otherSecret?: boolean }): Promise<string> {
  const jwt = new SignJWT({ scope: 'chat:admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(randomUUID())
    .setExpirationTime(START / 1000 + claims.exp);
  if (claims.nbf !== undefined) jwt.setNotBefore(START / 1000 + claims.nbf);
  if (claims.issuer !== undefined) jwt.setIssuer(claims.issuer);
  return jwt.sign(claims.otherSecret === true ? new TextEncoder().encode(`${secret}-other`) : key);
}

async function outcome(verify: TokenVerifier, text: string): Promise<unknown> {
  try {
    return { principal: { ...(await verify(text)) } };
  } catch (error) {
    return { refused: (error as Error).message };
  }
}

describe('remembered tokens', () => {
  it('answer every sequence of calls and clock moves as a verifier that remembers nothing', async () => {
    const claims = fc.record(
      { exp: fc.integer({ min: -2, max: 6 }), nbf: fc.integer({ min: -2, max: 6 }), issuer: fc.constantFrom('chat', 'elsewhere'), otherSecret: fc.boolean() },
      { requiredKeys: ['exp'] },
    );
    const step = fc.oneof(fc.record({ verify: fc.nat() }), fc.record({ wait: fc.integer({ min: 0, max: 1_500 }) }));
    await fc.assert(
      fc.asyncProperty(fc.array(claims, { minLength: 1, maxLength: 5 }), fc.array(step, { maxLength: 40 }), fc.integer({ min: 0, max: 3 }), async (drafts, steps, limit) => {
        const tokens = await Promise.all(drafts.map((draft) => token(draft)));
        let now = START;
        const clock = () => now;
        const remembering = createTokenVerifier({ secret, issuer: 'chat', now: clock, verifiedTokens: limit });
        const fresh = createTokenVerifier({ secret, issuer: 'chat', now: clock, verifiedTokens: 0 });
        for (const item of steps) {
          if ('wait' in item) {
            now += item.wait;
            continue;
          }
          const text = tokens[item.verify % tokens.length] ?? '';
          expect(await outcome(remembering, text)).toEqual(await outcome(fresh, text));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('refuse a remembered token once it expires, with the reason jose gives', async () => {
    let now = START;
    const verify = createTokenVerifier({ secret, now: () => now });
    const text = await token({ exp: 60 });
    const first = await verify(text);
    expect(await verify(text)).toBe(first);
    now = START + 59_999;
    expect(await verify(text)).toBe(first);
    now = START + 60_000;
    await expect(verify(text)).rejects.toMatchObject({ code: 'unauthorized', message: 'The token has expired.' });
  });

  it('keep at most their limit, the oldest leaving first, and share a frozen caller', () => {
    const tokens = new VerifiedTokens(2);
    const caller = (userId: string) => ({ userId, scopes: ['a'], admin: false, expiresAt: START + 1_000 });
    const a = tokens.add('a', caller('a'));
    tokens.add('b', caller('b'));
    tokens.add('c', caller('c'));
    expect(['a', 'b', 'c'].map((text) => tokens.get(text, START)?.userId)).toEqual([undefined, 'b', 'c']);
    expect(Object.isFrozen(a) && Object.isFrozen(a.scopes)).toBe(true);
    expect(tokens.get('b', START + 1_000)).toBeUndefined();
  });
});
