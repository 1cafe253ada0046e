import type { Express } from 'express';
import type { Principal } from '@chat/auth';
import { HistoryReader, type HistoryRange } from '@chat/core';
import { ChatError, historyQuerySchema, type HistoryResponse, type ReadCursor } from '@chat/protocol';
import type { ApiDeps } from './api-deps.ts';
import { principalOf } from './authenticate.ts';
import { fromDependency, fromHistory, parseInput } from './http-errors.ts';
import { sendJsonText } from './json-text-response.ts';
import { ROUTES } from './routes.ts';
import { sessionIdOf } from './session-access.ts';

/** Paged history, merged with live state so there is no gap between history and the live stream. */
export function registerHistoryRoutes(app: Express, deps: ApiDeps): void {
  const { store, state, directory, queue, workspace } = deps.ports;
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

  /**
   * The page, with the session's read cursors when there is a workspace: read in one statement with
   * the store's page, so a page costs one round trip to the database.
   */
  async function readPage(sessionId: string, range: HistoryRange, open: boolean): Promise<HistoryResponse> {
    if (workspace === undefined) return fromHistory(reader.page(sessionId, range, { open }));
    let reads: ReadCursor[] = [];
    const page = await fromHistory(
      reader.pageOver(sessionId, range, { open }, async () => {
        const read = await workspace.historyWithReads(sessionId, range);
        reads = read.reads;
        return read.page;
      }),
    );
    return { ...page, reads };
  }

  app.get(ROUTES.history, async (req, res) => {
    const caller = principalOf(res);
    const sessionId = sessionIdOf(req);
    const query = parseInput(historyQuerySchema, req.query, 'query');
    const range: HistoryRange = { limit: query.limit, ...(query.before === undefined ? {} : { before: query.before }), ...(query.after === undefined ? {} : { after: query.after }) };
    const access = authorizeRead(sessionId, caller);
    // A member may read only an open session, so the page is read while membership is checked, not
    // one round trip after the other; nothing read is answered unless the check passes. An admin's
    // page depends on whether the session is closed, so it waits for the check.
    const started = caller.admin ? undefined : readPage(sessionId, range, true);
    // Read alongside the check, it may fail before the check does: the check's answer comes first.
    void started?.catch(() => undefined);
    const open = await access;
    // Only a caller authorized above gets here: members' cursors are for members (and admins).
    sendJsonText(req, res, JSON.stringify(await (started ?? readPage(sessionId, range, open))));
  });
}
