import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { ChatError } from '@chat/protocol';
import { hs256Check } from './hs256-check.ts';
import { VerifiedTokens } from './verified-tokens.ts';

export const ADMIN_SCOPE = 'chat:admin';

/** Who is calling, as established by a verified token. */
export interface Principal {
  userId: string;
  name?: string;
  scopes: readonly string[];
  admin: boolean;
  /** When the token expires, in ms since the epoch (from `exp`); a connection's rights end then. */
  expiresAt?: number;
}

export interface VerifierOptions {
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** For tests: a JWKS document instead of a URL. */
  jwks?: Parameters<typeof createLocalJWKSet>[0];
  /** How many verified HS256 tokens are remembered until they expire (0: none); 10,000 by default. */
  verifiedTokens?: number;
  /** For tests: the time (ms since the epoch) for the remembered tokens and the claims; the system clock by default. */
  now?: () => number;
}

export type TokenVerifier = (token: string | undefined) => Promise<Principal>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * Verifies signature, algorithm, `exp` (required) and `nbf`/`iss`/`aud` when configured. The
 * algorithm list is fixed per key type, so `none` and HS/RS switching are refused.
 */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const keys: { key: Uint8Array | JWTVerifyGetKey; algorithms: string[] }[] = [];
  if (options.secret !== undefined) keys.push({ key: new TextEncoder().encode(options.secret), algorithms: ['HS256'] });
  if (options.jwks !== undefined) keys.push({ key: createLocalJWKSet(options.jwks), algorithms: ASYMMETRIC });
  if (options.jwksUrl !== undefined) keys.push({ key: createRemoteJWKSet(new URL(options.jwksUrl)), algorithms: ASYMMETRIC });
  if (keys.length === 0) throw new Error('a token verifier needs a secret or a JWKS');
  const claims: JWTVerifyOptions = {
    requiredClaims: ['exp', 'sub'],
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  };
  const quick = options.secret === undefined ? undefined : hs256Check(options.secret);
  // Only tokens of the configured secret are remembered: a key set can drop a key, a secret stays.
  const verified = new VerifiedTokens(options.verifiedTokens ?? 10_000);
  const now = options.now;
  const claimsNow = (): JWTVerifyOptions => (now === undefined ? claims : { ...claims, currentDate: new Date(now()) });

  return async (token) => {
    if (token === undefined || token === '') throw new ChatError('unauthorized', 'A token is required.');
    const known = verified.get(token, now === undefined ? Date.now() : now());
    if (known !== undefined) return known;
    // A valid HS256 token is settled here; anything else goes through jose below, which says why it is refused.
    const payload = quick?.(token, claimsNow());
    if (payload !== undefined) {
      try {
        return verified.add(token, toPrincipal(payload));
      } catch {
        // Refused below with the same reason, in the same order of keys.
      }
    }
    let lastError: unknown;
    for (const { key, algorithms } of keys) {
      const verifyOptions: JWTVerifyOptions = { ...claimsNow(), algorithms };
      try {
        const { payload } =
          typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions);
        return toPrincipal(payload);
      } catch (error) {
        lastError = error;
      }
    }
    throw new ChatError('unauthorized', describe(lastError), { cause: lastError });
  };
}

function toPrincipal(payload: Record<string, unknown>): Principal {
  const sub = payload['sub'];
  if (typeof sub !== 'string' || !UUID.test(sub)) throw new ChatError('unauthorized', 'The token subject must be a user UUID.');
  const scope = payload['scope'];
  const scopes = typeof scope === 'string' ? scope.split(' ').filter((item) => item.length > 0) : [];
  const name = payload['name'];
  const exp = payload['exp'];
  return {
    userId: sub.toLowerCase(),
    ...(typeof name === 'string' && name.length > 0 ? { name: name.slice(0, 100) } : {}),
    scopes,
    admin: scopes.includes(ADMIN_SCOPE),
    ...(typeof exp === 'number' ? { expiresAt: exp * 1000 } : {}),
  };
}

function describe(error: unknown): string {
  if (error instanceof ChatError) return error.message;
  if (error instanceof errors.JWTExpired) return 'The token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) return `The token's ${error.claim} claim is not valid.`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'The token uses an algorithm that is not allowed.';
  return 'The token is not valid.';
}
