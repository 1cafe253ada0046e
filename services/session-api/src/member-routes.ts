import type { Express } from 'express';
import { ChatError, MEMBERS_SCOPE, type MemberRemovedEvent } from '@chat/protocol';
import type { ApiDeps } from './api-deps.ts';
import { principalOf } from './authenticate.ts';
import { fromDependency } from './http-errors.ts';
import { ROUTES } from './routes.ts';
import { accessibleSession, mayManageMembers, memberOf, toSessionBody } from './session-access.ts';

/**
 * `DELETE /api/chat/sessions/{id}/members/{userId}`: a member may remove itself; removing another
 * takes an admin token or the `chat:members` scope. The removed user's sockets on every replica
 * close with 4403, and history and posting refuse them from then on.
 */
export function registerMemberRoutes(app: Express, deps: ApiDeps): void {
  const { logger } = deps;
  const { store, state, bus } = deps.ports;
  const now = deps.now ?? Date.now;

  app.delete(ROUTES.member, async (req, res) => {
    const caller = principalOf(res);
    const { sessionId, userId } = memberOf(req);
    const session = await accessibleSession(store, sessionId, caller, { closedVisibleToAdmins: false });
    if (userId !== caller.userId && !mayManageMembers(caller)) {
      throw new ChatError('forbidden', `Removing another member takes an admin token or the ${MEMBERS_SCOPE} scope.`);
    }
    if (session.members.includes(userId) && deps.ports.sessionEvents) {
      // Recorded before anything changes, so a failure further on cannot lose the webhook; a
      // retry after such a failure may record a second one (at least once).
      const at = new Date(now()).toISOString();
      const event = { id: `member.removed:${sessionId}:${userId}:${Date.parse(at)}`, type: 'member.removed' as const, createdAt: at, data: { sessionId, userId, removedBy: caller.userId } };
      await fromDependency('The session event stream', deps.ports.sessionEvents.append(event));
    }
    // Live state first: admission and posting read it, so no new socket or message gets in. Then
    // every replica closes the user's sockets; then the store, which history reads. Each step is
    // repeated on a retry, also when the store no longer lists the user, so a half-done removal
    // finishes.
    await fromDependency('Live session state', state.removeMember(sessionId, userId));
    const removed: MemberRemovedEvent = { type: 'member_removed', userId };
    await fromDependency('The bus', bus.publish(sessionId, JSON.stringify(removed)));
    const updated = await fromDependency('The store', store.removeMember(sessionId, userId));
    if (!updated) throw new ChatError('not_found');
    logger.info({ sessionId, userId, by: caller.userId }, 'member removed');
    res.status(200).json(toSessionBody(updated));
  });
}
