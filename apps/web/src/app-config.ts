/** What the page was opened with: `?session=&token=&api=&ws=` (the last two override the bases). */
export interface AppConfig {
  sessionId: string | undefined;
  token: string | undefined;
  apiUrl: string;
  wsUrl: string;
}

export function readAppConfig(location: Location): AppConfig {
  const params = new URLSearchParams(location.search);
  const api = params.get('api') ?? location.origin;
  const ws = params.get('ws') ?? location.origin.replace(/^http/, 'ws');
  return {
    sessionId: params.get('session') ?? undefined,
    token: params.get('token') ?? undefined,
    apiUrl: api.replace(/\/+$/, ''),
    wsUrl: ws.replace(/\/+$/, ''),
  };
}

/** The embeddable chat view's address for one session, keeping any base overrides of this page. */
export function chatUrl(location: Location, sessionId: string, token: string): string {
  const current = new URLSearchParams(location.search);
  const params = new URLSearchParams({ session: sessionId, token });
  for (const key of ['api', 'ws']) {
    const value = current.get(key);
    if (value !== null) params.set(key, value);
  }
  const root = location.pathname.replace(/chat\/?(index\.html)?$/, '').replace(/index\.html$/, '');
  return `${root}chat/?${params.toString()}`;
}
