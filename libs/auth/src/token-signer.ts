import { SignJWT } from 'jose';
import { ADMIN_SCOPE } from './token-verifier.ts';

export interface TokenClaims {
  userId: string;
  name?: string;
  admin?: boolean;
  /** Further scopes, beside the admin scope `admin` adds (for example `chat:members`). */
  scopes?: readonly string[];
  /** Seconds until expiry; default one hour. */
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
}

/** Signs an HS256 token: for tests, benchmarks and the embedded mode's development sign-in. */
export async function signToken(secret: string, claims: TokenClaims): Promise<string> {
  const jwt = new SignJWT({
    ...(claims.name === undefined ? {} : { name: claims.name }),
    ...scopeClaim(claims),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (claims.ttlSeconds ?? 3600));
  if (claims.issuer !== undefined) jwt.setIssuer(claims.issuer);
  if (claims.audience !== undefined) jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

function scopeClaim(claims: TokenClaims): { scope?: string } {
  const scopes = [...(claims.admin ? [ADMIN_SCOPE] : []), ...(claims.scopes ?? [])];
  return scopes.length === 0 ? {} : { scope: scopes.join(' ') };
}
