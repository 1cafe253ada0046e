import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { UnsecuredJWT, type JWTClaimVerificationOptions, type JWTPayload } from 'jose';

/** Header members a plain HS256 token carries; a token with any other (crit, b64, jku…) takes the full check. */
const PLAIN_HEADER = new Set(['alg', 'typ', 'kid']);
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** The claims are checked by jose's own rules, on the payload behind an `alg: none` header. */
const NONE_HEADER = Buffer.from('{"alg":"none"}').toString('base64url');

export type Hs256Check = (token: string, options: JWTClaimVerificationOptions) => JWTPayload | undefined;

/**
 * A synchronous check of HS256 tokens signed with `secret`: node's HMAC instead of a WebCrypto
 * job (a key import and a thread-pool round trip per token, most of a connect's CPU). It accepts
 * only tokens jose accepts too (canonical encoding, plain header, matching signature, valid
 * claims by jose's rules) and returns undefined for anything else, which the caller then hands to
 * jose, so every refusal keeps jose's reason.
 */
export function hs256Check(secret: string): Hs256Check {
  // A KeyObject made once: HMAC with raw key bytes prepares a key on every call, several times the cost of the hash.
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return (token, options) => {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [header, payload, signature] = parts as [string, string, string];
    if (!BASE64URL.test(header) || !BASE64URL.test(payload) || !BASE64URL.test(signature)) return undefined;
    if (!plainHs256Header(header)) return undefined;
    const expected = Buffer.from(createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url'));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return UnsecuredJWT.decode(`${NONE_HEADER}.${payload}.`, options).payload;
    } catch {
      return undefined;
    }
  };
}

function plainHs256Header(encoded: string): boolean {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return false;
  const members = header as Record<string, unknown>;
  return members['alg'] === 'HS256' && Object.keys(members).every((name) => PLAIN_HEADER.has(name));
}
