import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createTokenVerifier, signToken } from './index.ts';

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const userId = randomUUID();
const verify = createTokenVerifier({ secret });
const key = new TextEncoder().encode(secret);

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('createTokenVerifier', () => {
  it('accepts a valid HS256 token and reads its claims', async () => {
    const token = await signToken(secret, { userId, name: 'Ada', admin: true });
    const principal = await verify(token);
    expect(principal).toEqual({ userId, name: 'Ada', scopes: ['chat:admin'], admin: true, expiresAt: expect.any(Number) });
    // signToken's default lifetime is an hour; exp has whole seconds.
    expect(Math.abs((principal.expiresAt ?? 0) - (Date.now() + 3_600_000))).toBeLessThan(5_000);
  });

  it('treats a caller without the admin scope as a plain user', async () => {
    const principal = await verify(await signToken(secret, { userId }));
    expect(principal.admin).toBe(false);
  });

  it('refuses a missing token', async () => {
    await expect(verify(undefined)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signToken('another-secret-that-is-also-long-enough-xyz', { userId });
    await expect(verify(token)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses an expired token', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(key);
    await expect(verify(token)).rejects.toMatchObject({ code: 'unauthorized', message: 'The token has expired.' });
  });

  it('refuses a token without exp', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).sign(key);
    await expect(verify(token)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses an unsigned token with alg none', async () => {
    const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: userId, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    await expect(verify(token)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses an RS256 token when only a shared secret is configured', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject(userId).setExpirationTime('1h').sign(privateKey);
    await expect(verify(token)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses an HS256 token signed with the public key when a JWKS is configured (algorithm switch)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), alg: 'RS256', kid: 'k1' };
    const jwksVerify = createTokenVerifier({ jwks: { keys: [jwk] } });
    const good = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject(userId).setExpirationTime('1h').sign(privateKey);
    await expect(jwksVerify(good)).resolves.toMatchObject({ userId });
    const switched = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setSubject(userId).setExpirationTime('1h').sign(new TextEncoder().encode(JSON.stringify(jwk)));
    await expect(jwksVerify(switched)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses a token that is not valid yet', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setNotBefore('10m').setExpirationTime('1h').sign(key);
    await expect(verify(token)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('checks issuer and audience when configured', async () => {
    const strict = createTokenVerifier({ secret, issuer: 'finance', audience: 'chat' });
    await expect(strict(await signToken(secret, { userId, issuer: 'finance', audience: 'chat' }))).resolves.toMatchObject({ userId });
    await expect(strict(await signToken(secret, { userId, issuer: 'other', audience: 'chat' }))).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(strict(await signToken(secret, { userId, issuer: 'finance' }))).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses a subject that is not a UUID', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime('1h').sign(key);
    await expect(verify(token)).rejects.toMatchObject({ code: 'unauthorized', message: 'The token subject must be a user UUID.' });
  });
});
