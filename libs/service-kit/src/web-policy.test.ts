import { describe, expect, it } from '@jest/globals';
import { contentSecurityPolicy, SAME_ORIGIN_POLICY, webSecurityHeaders } from './web-policy.ts';

describe('the UI security headers', () => {
  it('allow only own scripts, no plugins, no base, and connections to own origin alone by default', () => {
    expect(contentSecurityPolicy(SAME_ORIGIN_POLICY)).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; manifest-src 'self'; connect-src 'self'; frame-ancestors 'self'; object-src 'none'; base-uri 'none'; form-action 'self'",
    );
  });

  it('add the origins of the configured API and WebSocket bases, once each, and the framing pages', () => {
    const csp = contentSecurityPolicy({ apiUrls: ['https://api.example/v1', 'https://api.example'], wsUrls: ['wss://ws.example:8443/base'], frameAncestors: ["'self'", 'http://localhost:8501'] });
    expect(csp).toContain("connect-src 'self' https://api.example wss://ws.example:8443;");
    expect(csp).toContain("frame-ancestors 'self' http://localhost:8501;");
  });

  it('send nosniff and no-referrer, and X-Frame-Options only where it can say the same as frame-ancestors', () => {
    expect(webSecurityHeaders(SAME_ORIGIN_POLICY)).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'SAMEORIGIN' });
    expect(webSecurityHeaders({ ...SAME_ORIGIN_POLICY, frameAncestors: ["'none'"] })['x-frame-options']).toBe('DENY');
    expect(webSecurityHeaders({ ...SAME_ORIGIN_POLICY, frameAncestors: ['https://a.example'] })['x-frame-options']).toBeUndefined();
  });
});
