import { randomUUID } from 'node:crypto';
import type { Express, RequestHandler } from 'express';
import { MemoryUserRateLimiter, userRateKey, userTopic, type Bus } from '@chat/core';
import { addMembersBodySchema, ChatError, createSessionBodySchema, MEMBERS_SCOPE, updateSessionBodySchema, type SessionAddedEvent } from '@chat/protocol';
import { chatMetrics } from '@chat/telemetry';
import type { ApiDeps } from './api-deps.ts';
import { principalOf } from './authenticate.ts';
import { fromDependency, parseInput } from './http-errors.ts';
import { ROUTES } from './routes.ts';
import { accessibleSession, mayManageMembers, sessionIdOf, toSessionBody } from './session-access.ts';

const SESSION_CLOSED_EVENT = JSON.stringify({ type: 'session_closed' });

/** Create, read, change, add members to and close sessions. */
export function registerSessionRoutes(app: Express, deps: ApiDeps, json: RequestHandler): void {
  const { logger, config } = deps;
  const { store, state, bus } = deps.ports;
  const now = deps.now ?? Date.now;
  const limiter = deps.ports.rateLimiter ?? new MemoryUserRateLimiter();
  const perMinute = config.limits.sessionCreatesPerMinute;
  // The whole minute's quota may be used at once; it then comes back over the minute.
  const budget = { perSec: perMinute / 60, burst: perMinute };

  app.post(ROUTES.sessions, json, async (req, res) => {
    const caller = principalOf(res);
    // Every field is optional, so a POST without any body creates an untitled session.
    const raw: unknown = req.body === undefined && req.headers['content-type'] === undefined ? {} : req.body;
    const body = parseInput(createSessionBodySchema, raw, 'body');
    // Checked after the body, so a refused body costs nothing; admins (backends) count too, under their own id.
    const decision = await limiter.take(userRateKey('session-creates', caller.userId), budget);
    if (!decision.allowed) {
      chatMetrics().rateLimitHits.add(1, { transport: 'rest' });
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      res.setHeader('Retry-After', String(seconds));
      throw new ChatError('rate_limited', `Too many sessions created: at most ${perMinute} a minute per user. Try again in ${seconds} s.`);
    }
    const members = new Set((body.members ?? []).map((id) => id.toLowerCase()));
    if (!caller.admin) members.add(caller.userId);
    const session = await fromDependency(
      'The store',
      store.createSession({ id: randomUUID(), title: body.title ?? null, members: [...members], metadata: body.metadata ?? {}, createdAt: new Date(now()).toISOString() }),
    );
    try {
      await state.hydrate(session, 0);
    } catch (error) {
      // The store holds the session, and first use loads it into live state: creation stands.
      logger.warn({ err: error, sessionId: session.id }, 'new session not loaded into live state');
    }
    await announceAdded({ bus, logger }, session.id, session.members);
    res.status(201).json(toSessionBody(session));
  });

  app.get(ROUTES.session, async (req, res) => {
    const session = await accessibleSession(store, sessionIdOf(req), principalOf(res), { closedVisibleToAdmins: true });
    res.status(200).json(toSessionBody(session));
  });

  app.post(ROUTES.members, json, async (req, res) => {
    const caller = principalOf(res);
    const sessionId = sessionIdOf(req);
    const body = parseInput(addMembersBodySchema, req.body, 'body');
    await accessibleSession(store, sessionId, caller, { closedVisibleToAdmins: false });
    const userIds = [...new Set(body.userIds.map((id) => id.toLowerCase()))];
    const updated = await fromDependency('The store', store.addMembers(sessionId, userIds));
    if (!updated) throw new ChatError('not_found');
    // Live state answers the gateway's membership checks, so the new members must reach it too.
    await fromDependency('Live session state', state.addMembers(sessionId, userIds));
    await announceAdded({ bus, logger }, sessionId, userIds);
    res.status(200).json(toSessionBody(updated));
  });

  app.patch(ROUTES.session, json, async (req, res) => {
    const caller = principalOf(res);
    const sessionId = sessionIdOf(req);
    const body = parseInput(updateSessionBodySchema, req.body, 'body');
    await accessibleSession(store, sessionId, caller, { closedVisibleToAdmins: false });
    if (!mayManageMembers(caller)) throw new ChatError('forbidden', `Changing a session takes an admin token or the ${MEMBERS_SCOPE} scope.`);
    const changes = { ...(body.title === undefined ? {} : { title: body.title }), ...(body.metadata === undefined ? {} : { metadata: body.metadata }) };
    const updated = await fromDependency('The store', store.updateSession(sessionId, changes));
    if (!updated) throw new ChatError('not_found');
    res.status(200).json(toSessionBody(updated));
  });

  app.delete(ROUTES.session, async (req, res) => {
    const caller = principalOf(res);
    const sessionId = sessionIdOf(req);
    if (!caller.admin) throw new ChatError('forbidden', 'Only an admin may close a session.');
    const closedNow = await fromDependency('The store', store.closeSession(sessionId, new Date(now()).toISOString()));
    if (!closedNow) {
      // Already closed: repeat the rest, so a retry after a half-done close finishes it.
      const session = await fromDependency('The store', store.getSession(sessionId));
      if (!session) throw new ChatError('not_found');
    }
    // Closed in the store first, so no replica can load it into live state again; then every
    // replica closes its sockets on the event, and the live keys go.
    const closed = await fromDependency('The store', store.getSession(sessionId));
    if (closed?.closedAt != null && deps.ports.sessionEvents) {
      // Repeated on a retry under the same id, so the webhook is recorded once, never lost.
      const event = { id: `session.closed:${sessionId}`, type: 'session.closed' as const, createdAt: closed.closedAt, data: { sessionId, closedAt: closed.closedAt, closedBy: caller.userId } };
      await fromDependency('The session event stream', deps.ports.sessionEvents.append(event));
    }
    await fromDependency('The bus', bus.publish(sessionId, SESSION_CLOSED_EVENT));
    await fromDependency('Live session state', state.remove(sessionId));
    logger.info({ sessionId, by: caller.userId }, 'session closed');
    res.status(204).end();
  });
}

/**
 * Tells each user's feed sockets, on every replica, that they are in the session now. The change
 * stands without it: a feed that missed it sees the session on its next open.
 */
async function announceAdded(deps: { bus: Bus; logger: ApiDeps['logger'] }, sessionId: string, userIds: readonly string[]): Promise<void> {
  const event: SessionAddedEvent = { type: 'session_added', sessionId };
  const payload = JSON.stringify(event);
  await Promise.all(userIds.map((userId) => deps.bus.publish(userTopic(userId), payload).catch((error: unknown) => deps.logger.warn({ err: error, sessionId, userId }, 'session_added not announced'))));
}
