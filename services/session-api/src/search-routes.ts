import type { Express } from 'express';
import { ChatError, searchQuerySchema, type SearchResponse } from '@chat/protocol';
import type { ApiDeps } from './api-deps.ts';
import { principalOf } from './authenticate.ts';
import { fromDependency, parseInput } from './http-errors.ts';
import { ROUTES } from './routes.ts';
import { sessionIdOf } from './session-access.ts';

/**
 * Full-text search of a session's history, for its members (and admins, closed sessions too, as
 * history). Only stored messages are found: one still in the queue, not yet written by the
 * persister, is found once it is.
 */
export function registerSearchRoutes(app: Express, deps: ApiDeps): void {
  app.get(ROUTES.search, async (req, res) => {
    const caller = principalOf(res);
    const sessionId = sessionIdOf(req);
    const query = parseInput(searchQuerySchema, req.query, 'query');
    if (caller.admin) {
      const session = await fromDependency('The store', deps.ports.store.getSession(sessionId));
      if (!session) throw new ChatError('not_found');
    } else {
      const access = await fromDependency('Live session state', deps.ports.directory.authorize(sessionId, { userId: caller.userId, admin: false }));
      if (access !== 'ok') throw new ChatError(access);
    }
    if (deps.ports.workspace === undefined) throw new ChatError('unavailable', 'This server keeps no search index.');
    const page = await fromDependency(
      'The store',
      deps.ports.workspace.searchMessages({ sessionId, text: query.q, limit: query.limit, ...(query.before === undefined ? {} : { before: query.before }) }),
    );
    const body: SearchResponse = { hits: page.hits, nextBefore: page.nextBefore };
    res.status(200).json(body);
  });
}
