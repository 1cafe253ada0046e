import type { RequestHandler } from 'express';

/**
 * The API answers JSON only, never a page: a browser that is tricked into rendering an answer
 * (a sniffed type, a frame, a link) finds nothing it may run, frame or leak a referrer from.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

export function apiSecurityHeaders(): RequestHandler {
  return (_req, res, next) => {
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) res.setHeader(name, value);
    next();
  };
}
