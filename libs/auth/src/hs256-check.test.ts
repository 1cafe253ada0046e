import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { jwtVerify, SignJWT, type JWTClaimVerificationOptions } from 'jose';
import { hs256Check } from './hs256-check.ts';

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const key = new TextEncoder().encode(secret);
const check = hs256Check(secret);
const options: JWTClaimVerificationOptions = { requiredClaims: ['exp', 'sub'] };
const now = () => Math.floor(Date.now() / 1000);

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function joseAccepts(token: string, claims: JWTClaimVerificationOptions): Promise<Record<string, unknown> | undefined> {
  try {
    return (await jwtVerify(token, key, { ...claims, algorithms: ['HS256'] })).payload;
  } catch {
    return undefined;
  }
}

async function hmacToken(header: object, payload: object): Promise<string> {
  const signingInput = `${base64url(header)}.${base64url(payload)}`;
  const hmacKey = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return `${signingInput}.${Buffer.from(await crypto.subtle.sign('HMAC', hmacKey, new TextEncoder().encode(signingInput))).toString('base64url')}`;
}

describe('hs256Check', () => {
  it('settles a valid token without jose and reads the same claims', async () => {
    const token = await new SignJWT({ name: 'Ada' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(randomUUID()).setExpirationTime('1h').sign(key);
    const payload = check(token, options);
    expect(payload).toBeDefined();
    expect(payload).toEqual(await joseAccepts(token, options));
  });

  it('leaves to jose a token it does not recognise as valid', async () => {
    const sub = randomUUID();
    const valid = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(key);
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const cases = [
      // another secret
      await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(new TextEncoder().encode(`${secret}-other`)),
      // expired, not yet valid, no exp
      await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime(now() - 60).sign(key),
      await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setNotBefore('10m').setExpirationTime('1h').sign(key),
      await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).sign(key),
      // a header member that changes the meaning (crit), an unsigned token, a payload swapped under the signature
      await new SignJWT({}).setProtectedHeader({ alg: 'HS256', crit: ['exp'] }).setSubject(sub).setExpirationTime('1h').sign(key).catch(() => `${base64url({ alg: 'HS256', crit: ['x'] })}.${payload}.${signature}`),
      `${base64url({ alg: 'none' })}.${payload}.`,
      // the right HMAC under a header that names another algorithm
      await hmacToken({ alg: 'HS384' }, { sub, exp: now() + 600 }),
      await hmacToken({ alg: 'none' }, { sub, exp: now() + 600 }),
      `${header}.${base64url({ sub, exp: now() + 7200 })}.${signature}`,
      // a signature with a character past its canonical end
      `${valid}A`,
      `${header}.${payload}`,
    ];
    for (const token of cases) expect(check(token, options)).toBeUndefined();
  });

  it('checks issuer and audience by jose\'s rules', async () => {
    const strict: JWTClaimVerificationOptions = { ...options, issuer: 'finance', audience: 'chat' };
    const good = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(randomUUID()).setIssuer('finance').setAudience('chat').setExpirationTime('1h').sign(key);
    const wrong = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(randomUUID()).setIssuer('other').setAudience('chat').setExpirationTime('1h').sign(key);
    expect(check(good, strict)).toBeDefined();
    expect(check(wrong, strict)).toBeUndefined();
  });

  it('accepts only what jose accepts, for any claims and any change to the token', async () => {
    const claims = fc.record(
      {
        sub: fc.oneof(fc.uuid(), fc.string()),
        exp: fc.oneof(fc.integer({ min: -3600, max: 3600 }).map((offset) => now() + offset), fc.string()),
        nbf: fc.integer({ min: -3600, max: 3600 }).map((offset) => now() + offset),
        iat: fc.oneof(fc.integer({ min: -3600, max: 3600 }).map((offset) => now() + offset), fc.constant('x')),
        iss: fc.constantFrom('finance', 'other'),
      },
      { requiredKeys: [] },
    );
    const header = fc.oneof(fc.constant({ alg: 'HS256' }), fc.record({ alg: fc.constantFrom('HS256', 'HS384', 'none'), typ: fc.constant('JWT'), b64: fc.boolean() }, { requiredKeys: ['alg'] }));
    const edit = fc.option(fc.record({ at: fc.nat(), char: fc.constantFrom('A', '.', '-', '=', '+') }));
    await fc.assert(
      fc.asyncProperty(claims, header, edit, fc.boolean(), async (payload, protectedHeader, change, strict) => {
        let token = await hmacToken(protectedHeader, payload);
        if (change) token = token.slice(0, change.at % token.length) + change.char + token.slice((change.at % token.length) + 1);
        const claimOptions = strict ? { ...options, issuer: 'finance' } : options;
        const quick = check(token, claimOptions);
        const jose = await joseAccepts(token, claimOptions);
        if (quick !== undefined) expect(quick).toEqual(jose);
        // An untouched token with a plain header is settled here whenever jose accepts it.
        if (!change && Object.keys(protectedHeader).length === 1 && jose !== undefined) expect(quick).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });
});
