import type { UpgradeRequest } from './socket.ts';

export type RouteKind = 'chat' | 'status' | 'feed';

export interface UpgradeRoute {
  kind: RouteKind;
  /** As written in the path; validated later, so a bad one can be refused with 4404 after the upgrade. Empty on the feed route. */
  sessionId: string;
  token: string | undefined;
  /** Present only when the query carried a non-negative integer. */
  lastSeq: number | undefined;
  origin: string | undefined;
  /** The Host header: an Origin with this host is the page this gateway served itself. */
  host: string | undefined;
  authorization: string | undefined;
}

const ROUTE = /^\/ws\/(chat|status)\/([^/]+)\/?$/;
const FEED_ROUTE = /^\/ws\/feed\/?$/;

/** Reads what the gateway needs from an upgrade; undefined when the path is none of its routes. */
export function parseUpgradeRoute(request: UpgradeRequest): UpgradeRoute | undefined {
  const url = new URL(request.url, 'http://gateway.invalid');
  const match = ROUTE.exec(url.pathname);
  const feed = FEED_ROUTE.test(url.pathname);
  if (!match && !feed) return undefined;
  const lastSeq = url.searchParams.get('lastSeq');
  return {
    kind: feed ? 'feed' : match?.[1] === 'chat' ? 'chat' : 'status',
    sessionId: decodePart(match?.[2] ?? ''),
    token: url.searchParams.get('token') ?? undefined,
    lastSeq: lastSeq !== null && /^\d{1,15}$/.test(lastSeq) ? Number(lastSeq) : undefined,
    origin: header(request, 'origin'),
    host: header(request, 'host'),
    authorization: header(request, 'authorization'),
  };
}

function header(request: UpgradeRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
