import type { Express, RequestHandler } from 'express';
import type { SessionListPosition } from '@chat/core';
import { analysisLinkRefusal, analysisStatusBodySchema, ChatError, listSessionsQuerySchema, type AnalysisStatus, type AnalysisStatusFrame, type SessionList } from '@chat/protocol';
import type { ApiDeps } from './api-deps.ts';
import { principalOf } from './authenticate.ts';
import { fromDependency, parseInput } from './http-errors.ts';
import { ROUTES } from './routes.ts';
import { sessionIdOf } from './session-access.ts';

/** The caller's session list, and the analysis status the finance backend reports. */
export function registerWorkspaceRoutes(app: Express, deps: ApiDeps, json: RequestHandler): void {
  const now = deps.now ?? Date.now;

  function workspaceOf() {
    if (deps.ports.workspace === undefined) throw new ChatError('unavailable', 'This server keeps no workspace records.');
    return deps.ports.workspace;
  }

  app.get(ROUTES.sessions, async (req, res) => {
    const caller = principalOf(res);
    const query = parseInput(listSessionsQuerySchema, req.query, 'query');
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const page = await fromDependency(
      'The store',
      workspaceOf().listSessions({
        userId: caller.userId,
        // The finance backend (an admin) finds any analysis's session; people see their own.
        everySession: caller.admin,
        limit: query.limit,
        ...(after === undefined ? {} : { after }),
        ...(query.analysisId === undefined ? {} : { analysisId: query.analysisId }),
      }),
    );
    const body: SessionList = { sessions: page.sessions, nextCursor: page.next === null ? null : encodeCursor(page.next) };
    res.status(200).json(body);
  });

  app.put(ROUTES.analysisStatus, json, async (req, res) => {
    const caller = principalOf(res);
    const sessionId = sessionIdOf(req);
    if (!caller.admin) throw new ChatError('forbidden', 'Only the analysis backend (an admin token) may report an analysis status.');
    const body = parseInput(analysisStatusBodySchema, req.body, 'body');
    const workspace = workspaceOf();
    const session = await fromDependency('The store', deps.ports.store.getSession(sessionId));
    if (!session || session.closedAt !== null) throw new ChatError('not_found');
    const status: AnalysisStatus = {
      sessionId,
      state: body.state,
      ...('progress' in body && body.progress !== undefined ? { progress: body.progress } : {}),
      ...('reason' in body ? { reason: body.reason } : {}),
      updatedAt: new Date(now()).toISOString(),
    };
    await fromDependency('The store', workspace.setAnalysisStatus(status));
    const frame: AnalysisStatusFrame = { type: 'analysis_status', ...status };
    // Stored first: a socket opening later reads it there even if this announcement is lost.
    await deps.ports.bus.publish(sessionId, JSON.stringify(frame)).catch((error: unknown) => deps.logger.warn({ err: error, sessionId }, 'analysis status not announced'));
    res.status(200).json(status);
  });
}

/** Refuses a result card whose link leaves the allowed hosts (the schema itself is checked by the body's parse). */
export function refuseForeignLink(metadata: Record<string, unknown> | undefined, allowedHosts: readonly string[]): void {
  const refusal = analysisLinkRefusal(metadata, allowedHosts);
  if (refusal !== undefined) throw new ChatError('invalid_input', `body: ${refusal}`);
}

/** `nextCursor` is opaque to clients: the (activity, id) a page ended at, base64url. */
function encodeCursor(position: SessionListPosition): string {
  return Buffer.from(`${position.activityMicros}.${position.id}`).toString('base64url');
}

function decodeCursor(cursor: string): SessionListPosition {
  const match = /^(-?\d{1,20})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1] || !match[2]) throw new ChatError('invalid_input', 'query: cursor: not a cursor this endpoint gave out');
  return { activityMicros: match[1], id: match[2] };
}
