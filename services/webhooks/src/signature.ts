import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header names of a signed delivery; documented in this service's README. */
export const WEBHOOK_HEADERS = {
  id: 'chat-webhook-id',
  timestamp: 'chat-webhook-timestamp',
  signature: 'chat-webhook-signature',
} as const;

/** Receivers refuse a delivery whose timestamp is further than this from their clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const VERSION = 'v1';

/** HMAC-SHA256 over `${id}.${timestamp}.${body}`: binding id and time to the body stops replays of an old body under a new time. */
export function signatureOf(secret: string, id: string, timestamp: number, body: string): string {
  return `${VERSION}=${createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('hex')}`;
}

/** The headers of one delivery attempt; each attempt is signed at its own time. */
export function signedHeaders(secrets: readonly string[], id: string, timestamp: number, body: string): Record<string, string> {
  // Several secrets sign at once while a key is rotated; a receiver accepts any one it knows.
  return {
    [WEBHOOK_HEADERS.id]: id,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: secrets.map((secret) => signatureOf(secret, id, timestamp, body)).join(' '),
  };
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'malformed' | 'stale' | 'bad_signature' };

/** What a receiver does (the Python client's verify_webhook is the same check). */
export function verifyWebhook(secret: string, headers: Record<string, string | undefined>, body: string, nowSeconds: number, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): VerifyResult {
  const id = headers[WEBHOOK_HEADERS.id];
  const timestampText = headers[WEBHOOK_HEADERS.timestamp];
  const signatures = headers[WEBHOOK_HEADERS.signature];
  if (id === undefined || timestampText === undefined || signatures === undefined || !/^\d+$/.test(timestampText)) return { ok: false, reason: 'malformed' };
  const timestamp = Number(timestampText);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signatureOf(secret, id, timestamp, body));
  const matches = signatures.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? { ok: true } : { ok: false, reason: 'bad_signature' };
}
