import { SignJWT } from 'jose';

export interface TokenClaims {
  sub: string;
  name?: string;
  scope?: string;
}

/** Signs HS256 tokens the way the services verify them; one key object is reused for speed. */
export class TokenSigner {
  readonly #key: Uint8Array;
  readonly #ttlSeconds: number;

  constructor(secret: string, ttlSeconds = 3600) {
    if (secret.length < 32) throw new Error('JWT secret must be at least 32 characters');
    this.#key = new TextEncoder().encode(secret);
    this.#ttlSeconds = ttlSeconds;
  }

  sign(claims: TokenClaims): Promise<string> {
    const payload: Record<string, string> = {};
    if (claims.name !== undefined) payload['name'] = claims.name;
    if (claims.scope !== undefined) payload['scope'] = claims.scope;
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.sub)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + this.#ttlSeconds)
      .sign(this.#key);
  }
}
