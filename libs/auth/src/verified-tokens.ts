import type { Principal } from './token-verifier.ts';

/**
 * HS256 tokens verified already, by their whole text, each until it expires. A caller sends the
 * same token with every request, and checking it again (the HMAC, decoding the header and the
 * claims) was a few percent of a history page's CPU. A token is answered from here only while
 * `now < exp` (in ms), which is when jose still takes it too: `nbf` and the issuer and audience were
 * met when it was verified and stay met. The oldest entry goes first when the map is full.
 */
export class VerifiedTokens {
  readonly #limit: number;
  readonly #entries = new Map<string, Readonly<Principal>>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The caller of a token verified before and not expired at `now` (ms since the epoch). */
  get(token: string, now: number): Readonly<Principal> | undefined {
    const principal = this.#entries.get(token);
    if (principal === undefined) return undefined;
    if (principal.expiresAt !== undefined && now < principal.expiresAt) return principal;
    this.#entries.delete(token);
    return undefined;
  }

  /** Remembers a verified token's caller; the principal is frozen, since every later request shares it. */
  add(token: string, principal: Principal): Readonly<Principal> {
    const frozen = Object.freeze({ ...principal, scopes: Object.freeze([...principal.scopes]) });
    if (this.#limit === 0 || principal.expiresAt === undefined) return frozen;
    if (this.#entries.size >= this.#limit) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, frozen);
    return frozen;
  }
}
