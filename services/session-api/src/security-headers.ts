import type { RequestHandler } from 'express';
import { API_SECURITY_HEADERS } from '@chat/service-kit';

/** The API answers JSON only, never a page: every answer carries service-kit's API headers. */
export function apiSecurityHeaders(): RequestHandler {
  return (_req, res, next) => {
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) res.setHeader(name, value);
    next();
  };
}
