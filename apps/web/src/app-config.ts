/**
 * What the page was opened with (`?session=&token=&api=&ws=`) and where it may send the token.
 * The token goes only to the page's own origin or to a base its own origin lists in `config.json`;
 * `api` and `ws` in the address can only pick one of those, never name a new host.
 */
export interface AppConfig {
  sessionId: string | undefined;
  token: string | undefined;
  apiUrl: string;
  wsUrl: string;
  /** Address parameters that named a base the served config does not list, and were ignored. */
  ignored: ('api' | 'ws')[];
}

/** `config.json` as served by the page's own origin. */
export interface ServedConfig {
  apiUrls: string[];
  wsUrls: string[];
}

export const NO_SERVED_CONFIG: ServedConfig = { apiUrls: [], wsUrls: [] };

export function readAppConfig(location: Location, served: ServedConfig = NO_SERVED_CONFIG): AppConfig {
  const params = new URLSearchParams(location.search);
  const ownApi = location.origin;
  const ownWs = location.origin.replace(/^http/, 'ws');
  const ignored: AppConfig['ignored'] = [];
  const pick = (key: 'api' | 'ws', own: string, listed: string[]): string => {
    const allowed = [...listed.map(normalBase).filter((base) => base !== undefined), own];
    const requested = params.get(key);
    if (requested !== null) {
      const base = normalBase(requested);
      if (base !== undefined && allowed.includes(base)) return base;
      ignored.push(key);
    }
    return allowed[0] ?? own;
  };
  return {
    sessionId: params.get('session') ?? undefined,
    token: params.get('token') ?? undefined,
    apiUrl: pick('api', ownApi, served.apiUrls),
    wsUrl: pick('ws', ownWs, served.wsUrls),
    ignored,
  };
}

/** Reads `config.json` beside the app; a page served without one talks to its own origin only. */
export async function loadServedConfig(location: Location, fetchJson: (url: string) => Promise<Response> = (url) => fetch(url, { credentials: 'omit' })): Promise<ServedConfig> {
  try {
    const response = await fetchJson(`${appRoot(location)}config.json`);
    if (!response.ok) return NO_SERVED_CONFIG;
    return parseServedConfig(await response.json());
  } catch {
    return NO_SERVED_CONFIG;
  }
}

export function parseServedConfig(raw: unknown): ServedConfig {
  const list = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
  const body = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return { apiUrls: list(body['apiUrls']), wsUrls: list(body['wsUrls']) };
}

/** The embeddable chat view's address for one session, keeping any base choices of this page. */
export function chatUrl(location: Location, sessionId: string, token: string): string {
  const current = new URLSearchParams(location.search);
  const params = new URLSearchParams({ session: sessionId, token });
  for (const key of ['api', 'ws']) {
    const value = current.get(key);
    if (value !== null) params.set(key, value);
  }
  return `${appRoot(location)}chat/?${params.toString()}`;
}

/** The folder the app is served from, whether this is its lobby or its `chat/` view. */
export function appRoot(location: Location): string {
  return location.pathname.replace(/chat\/?(index\.html)?$/, '').replace(/index\.html$/, '');
}

/** A base as the comparison needs it: scheme, host, port and path, no trailing slash; undefined when not a URL. */
function normalBase(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}
