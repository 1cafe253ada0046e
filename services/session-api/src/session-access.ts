import type { Request } from 'express';
import type { Principal } from '@chat/auth';
import type { ChatStore, SessionRecord } from '@chat/core';
import { ChatError, MEMBERS_SCOPE, memberParamSchema, sessionIdParamSchema, type Session } from '@chat/protocol';
import { fromDependency, parseInput } from './http-errors.ts';

/** The session id of the path, validated and in the lower case the store and live state use. */
export function sessionIdOf(req: Request): string {
  return parseInput(sessionIdParamSchema, req.params, 'path').session_id.toLowerCase();
}

/**
 * Loads a session the caller may see: 404 when unknown, or closed (admins may still see a closed
 * one when `closedVisibleToAdmins`), 403 when a non-admin caller is not a member.
 */
export async function accessibleSession(
  store: ChatStore,
  sessionId: string,
  caller: Principal,
  options: { closedVisibleToAdmins: boolean },
): Promise<SessionRecord> {
  const session = await fromDependency('The store', store.getSession(sessionId));
  if (!session) throw new ChatError('not_found');
  if (session.closedAt !== null && !(caller.admin && options.closedVisibleToAdmins)) throw new ChatError('not_found');
  if (!caller.admin && !session.members.includes(caller.userId)) throw new ChatError('forbidden');
  return session;
}

/** The REST shape of a session: `closedAt` appears only once it is closed (only admins see those). */
export function toSessionBody(session: SessionRecord): Session {
  const { closedAt, ...open } = session;
  return closedAt === null ? open : { ...open, closedAt };
}

/** The session and user ids of a member path, lower case. */
export function memberOf(req: Request): { sessionId: string; userId: string } {
  const params = parseInput(memberParamSchema, req.params, 'path');
  return { sessionId: params.session_id.toLowerCase(), userId: params.user_id.toLowerCase() };
}

/**
 * The right to manage a session (remove others, change title and metadata): an admin token, or a
 * member's token holding the `chat:members` scope. Membership itself is checked by accessibleSession.
 */
export function mayManageMembers(caller: Principal): boolean {
  return caller.admin || caller.scopes.includes(MEMBERS_SCOPE);
}
