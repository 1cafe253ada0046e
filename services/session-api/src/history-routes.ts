import type { Express } from 'express';
import type { Principal } from '@chat/auth';
import { HistoryReader, type HistoryRange } from '@chat/core';
import { ChatError, historyQuerySchema, type HistoryResponse } from '@chat/protocol';
import type { ApiDeps } from './api-deps.ts';
import { principalOf } from './authenticate.ts';
import { fromDependency, fromHistory, parseInput } from './http-errors.ts';
import { ROUTES } from './routes.ts';
import { sessionIdOf } from './session-access.ts';

/** Paged history, merged with live state so there is no gap between history and the live stream. */
export function registerHistoryRoutes(app: Express, deps: ApiDeps): void {
  const { store, state, directory, queue } = deps.ports;
  const reader = new HistoryReader({ store, state, queue });

  /** Whether the session is still live (open); throws 404/403 when the caller may not read it. */
  async function authorizeRead(sessionId: string, caller: Principal): Promise<boolean> {
    if (caller.admin) {
      // Admins read closed sessions too, for audit: only the store knows those.
      const session = await fromDependency('The store', store.getSession(sessionId));
      if (!session) throw new ChatError('not_found');
      return session.closedAt === null;
    }
    const access = await fromDependency('Live session state', directory.authorize(sessionId, { userId: caller.userId, admin: false }));
    if (access !== 'ok') throw new ChatError(access);
    return true;
  }

  app.get(ROUTES.history, async (req, res) => {
    const caller = principalOf(res);
    const sessionId = sessionIdOf(req);
    const query = parseInput(historyQuerySchema, req.query, 'query');
    const range: HistoryRange = { limit: query.limit, ...(query.before === undefined ? {} : { before: query.before }), ...(query.after === undefined ? {} : { after: query.after }) };
    const workspace = deps.ports.workspace;
    const readPage = (open: boolean) => fromHistory(reader.page(sessionId, range, { open }));
    const readCursors = workspace === undefined ? undefined : () => fromDependency('The store', workspace.readCursors(sessionId));
    const access = authorizeRead(sessionId, caller);
    // A member may read only an open session, so its page and read cursors are read while membership
    // is checked, not one round trip after another; nothing read is answered unless the check passes.
    // An admin's page depends on whether the session is closed, so it waits for the check.
    const started = caller.admin ? undefined : { page: readPage(true), reads: readCursors?.() };
    // Read alongside the check, these may fail before the check does: the check's answer comes first.
    void started?.page.catch(() => undefined);
    void started?.reads?.catch(() => undefined);
    const open = await access;
    const pageRead = started?.page ?? readPage(open);
    // Only a caller authorized above gets here: members' cursors are for members (and admins).
    const readsRead = started === undefined ? readCursors?.() : started.reads;
    void readsRead?.catch(() => undefined);
    const page: HistoryResponse = await pageRead;
    res.status(200).json(readsRead === undefined ? page : { ...page, reads: await readsRead });
  });
}
