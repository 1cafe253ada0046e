import type { IncomingMessage } from 'node:http';

export interface Refusal {
  status: number;
  code: 'invalid_input' | 'origin_refused' | 'too_large';
  message: string;
}

/**
 * Whether a browser sent this from a page of another site. A form or `fetch` elsewhere can post
 * `text/plain` here without a preflight, so both Fetch Metadata and Origin are checked; clients
 * that send neither (curl, scripts) are not browsers and pass.
 */
export function crossSiteRefusal(req: IncomingMessage, allowedOrigins: readonly string[]): Refusal | undefined {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return { status: 403, code: 'origin_refused', message: `sign-in is only accepted from this site's own pages (Sec-Fetch-Site: ${site})` };
  }
  const origin = header(req, 'origin');
  if (origin === undefined) return undefined;
  if (sameHost(origin, header(req, 'host')) || allowedOrigins.includes(origin)) return undefined;
  return { status: 403, code: 'origin_refused', message: `sign-in is only accepted from this site's own pages (Origin: ${origin.slice(0, 100)})` };
}

/** Only JSON bodies: the content types a page elsewhere could send without a preflight are refused. */
export function contentTypeRefusal(req: IncomingMessage): Refusal | undefined {
  const type = (header(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') return undefined;
  return { status: 415, code: 'invalid_input', message: 'send the body as application/json, like {"name":"Ada"}' };
}

/** A declared body length over the limit, refused before a byte of it is read. */
export function declaredSizeRefusal(req: IncomingMessage, maxBytes: number): Refusal | undefined {
  const length = Number(header(req, 'content-length') ?? '0');
  return length > maxBytes ? tooLarge(maxBytes) : undefined;
}

export function tooLarge(maxBytes: number): Refusal {
  return { status: 413, code: 'too_large', message: `the body must be at most ${maxBytes} bytes` };
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
