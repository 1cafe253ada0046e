import { appRoot } from './app-config.ts';

/**
 * The address that opens a session in the workspace, to hand to other members. It carries no
 * token: whoever opens it signs in (or is given a token by the page that embeds the chat) and
 * sees the session only if they are a member.
 */
export function shareUrl(location: Location, sessionId: string): string {
  const current = new URLSearchParams(location.search);
  const params = new URLSearchParams({ session: sessionId });
  for (const key of ['api', 'ws']) {
    const value = current.get(key);
    if (value !== null) params.set(key, value);
  }
  return `${location.origin}${appRoot(location)}chat/?${params.toString()}`;
}
