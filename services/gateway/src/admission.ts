import { bearerToken, type Principal, type TokenVerifier } from '@chat/auth';
import type { SessionDirectory, SessionRoster } from '@chat/core';
import { CLOSE_CODES, ERROR_CODES } from '@chat/protocol';
import { retryWithin, type JoinRetryBudget } from './join-retry.ts';
import type { UpgradeRoute } from './upgrade-route.ts';

export type Admission =
  | { ok: true; principal: Principal }
  | { ok: false; code: number; reason: string; cause?: unknown };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AdmissionDeps {
  verifier: TokenVerifier;
  directory: SessionDirectory;
  allowedOrigins: readonly string[];
  /** How long a membership read that failed may be tried again; not at all when omitted. */
  retry?: JoinRetryBudget;
  onRetry?: (error: unknown) => void;
}

/**
 * Decides whether an upgraded connection may stay. A refusal carries the close code of the
 * contract; the caller closes with it, since a browser cannot read an HTTP status on an upgrade.
 */
export async function admit(route: UpgradeRoute, deps: AdmissionDeps): Promise<Admission> {
  // No Origin header means a non-browser client, which the origin rule does not concern.
  if (route.origin !== undefined && !originAllowed(route.origin, route.host, deps.allowedOrigins)) {
    return refuse(CLOSE_CODES.forbidden, ERROR_CODES.origin_refused.message);
  }
  let principal: Principal;
  try {
    principal = await deps.verifier(bearerToken(route.authorization) ?? route.token);
  } catch (error) {
    return refuse(CLOSE_CODES.badToken, error instanceof Error ? error.message : ERROR_CODES.unauthorized.message);
  }
  // The feed is the user's own: it follows only sessions they are a member of, checked one by one.
  if (route.kind === 'feed') return { ok: true, principal };
  if (!UUID.test(route.sessionId)) return refuse(CLOSE_CODES.sessionNotFound, ERROR_CODES.not_found.message);
  try {
    const caller = { userId: principal.userId, admin: principal.admin };
    const access = await retryWithin(() => deps.directory.authorize(route.sessionId.toLowerCase(), caller), deps.retry ?? { until: 0 }, deps.onRetry);
    if (access === 'forbidden') return refuse(CLOSE_CODES.forbidden, ERROR_CODES.forbidden.message);
    if (access === 'not_found') return refuse(CLOSE_CODES.sessionNotFound, ERROR_CODES.not_found.message);
  } catch (cause) {
    return { ok: false, code: CLOSE_CODES.tryAgainLater, reason: ERROR_CODES.unavailable.message, cause };
  }
  return { ok: true, principal };
}

/**
 * A listed origin, or the gateway's own: a page it served itself comes back with an Origin whose
 * host is the Host it asked for, whatever port the process was started on. A page of another
 * site cannot make its Origin match the Host, so this admits no one else.
 */
function originAllowed(origin: string, host: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.includes(origin)) return true;
  if (host === undefined) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
  } catch {
    return false;
  }
}

function refuse(code: number, reason: string): Admission {
  // A close reason may hold at most 123 bytes.
  return { ok: false, code, reason: reason.slice(0, 120) };
}

/**
 * Checked once the socket is subscribed to its session: a removal whose `member_removed` event
 * went out between admission and the subscription would otherwise leave the socket open. Admins
 * need no membership, so they are never "removed".
 */
export async function removedWhileAdmitted(state: SessionRoster, sessionId: string, principal: Principal): Promise<boolean> {
  if (principal.admin) return false;
  return (await state.membership(sessionId, principal.userId)) === 'not_member';
}
