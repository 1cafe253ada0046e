/**
 * What the served chat UI may do: the API and WebSocket bases it may use besides its own origin
 * (the first of each is its default) and the pages that may frame it.
 */
export interface WebPolicy {
  readonly apiUrls: readonly string[];
  readonly wsUrls: readonly string[];
  readonly frameAncestors: readonly string[];
}

/** Own origin only, framed by pages of the same origin. */
export const SAME_ORIGIN_POLICY: WebPolicy = { apiUrls: [], wsUrls: [], frameAncestors: ["'self'"] };

/** The body of the UI's `config.json`: the only place the page learns of hosts other than its own. */
export function servedWebConfig(policy: WebPolicy): { apiUrls: string[]; wsUrls: string[] } {
  return { apiUrls: [...policy.apiUrls], wsUrls: [...policy.wsUrls] };
}

/**
 * The page runs only its own scripts and styles, talks only to its own origin and the configured
 * bases (so a token can go nowhere else even if a script were injected), and is framed only where
 * the setting allows.
 */
export function contentSecurityPolicy(policy: WebPolicy): string {
  const connect = ["'self'", ...new Set([...policy.apiUrls, ...policy.wsUrls].map((url) => new URL(url).origin))];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "manifest-src 'self'",
    `connect-src ${connect.join(' ')}`,
    `frame-ancestors ${policy.frameAncestors.join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** What every answer carries, page or not: no sniffed types, no referrer leaving. */
const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Every header the UI's responses carry. */
export function webSecurityHeaders(policy: WebPolicy): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(policy),
    ...COMMON_HEADERS,
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    ...frameOptions(policy.frameAncestors),
  };
}

/**
 * The CSP of every answer that is not the UI: the API's JSON, and what nginx answers itself. A
 * browser tricked into rendering one finds nothing it may run, load or frame.
 */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/** Every header the API's answers carry. */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': API_CONTENT_SECURITY_POLICY,
  ...COMMON_HEADERS,
  ...frameOptions(["'none'"]),
};

/** For browsers without frame-ancestors; an allow-list of other origins has no X-Frame-Options form. */
function frameOptions(frameAncestors: readonly string[]): Record<string, string> {
  const [only, ...more] = frameAncestors;
  if (more.length === 0 && only === "'none'") return { 'x-frame-options': 'DENY' };
  if (more.length === 0 && only === "'self'") return { 'x-frame-options': 'SAMEORIGIN' };
  return {};
}
