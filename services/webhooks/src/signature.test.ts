import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { signatureOf, signedHeaders, verifyWebhook, WEBHOOK_HEADERS } from './signature.ts';

const SECRET = 'whsec-test-secret';
const NOW = 1_800_000_000;

describe('webhook signatures', () => {
  it('are HMAC-SHA256 in hex over id, timestamp and body', () => {
    // Computed independently: printf 'evt.1800000000.{}' | openssl dgst -sha256 -hmac whsec-test-secret
    expect(signatureOf(SECRET, 'evt', NOW, '{}')).toBe('v1=ca949b6f0d9ec171cafe0d2017f7cd27fa0412d1ec56d75161f57c856f54b440');
  });

  it('verify for any body, id and time within the window', () => {
    fc.assert(
      fc.property(fc.string(), fc.uuid(), fc.integer({ min: -300, max: 300 }), (body, id, skew) => {
        const headers = signedHeaders([SECRET], id, NOW + skew, body);
        expect(verifyWebhook(SECRET, headers, body, NOW)).toEqual({ ok: true });
      }),
    );
  });

  it('refuse a changed body, another id, another key, and a time outside the window', () => {
    const headers = signedHeaders([SECRET], 'evt-1', NOW, '{"a":1}');
    expect(verifyWebhook(SECRET, headers, '{"a":2}', NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebhook(SECRET, { ...headers, [WEBHOOK_HEADERS.id]: 'evt-2' }, '{"a":1}', NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebhook('another-secret', headers, '{"a":1}', NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebhook(SECRET, headers, '{"a":1}', NOW + 301)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhook(SECRET, { ...headers, [WEBHOOK_HEADERS.timestamp]: '12x' }, '{"a":1}', NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('carry one signature per secret while a key is rotated', () => {
    const headers = signedHeaders(['old-secret', 'new-secret'], 'evt', NOW, 'body');
    expect(verifyWebhook('old-secret', headers, 'body', NOW).ok).toBe(true);
    expect(verifyWebhook('new-secret', headers, 'body', NOW).ok).toBe(true);
  });
});
