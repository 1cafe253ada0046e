import cors from 'cors';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { recordingCallers } from '@chat/core';
import { chatMetrics, traceHttpRequest, type TracedRequest } from '@chat/telemetry';
import type { ApiDeps } from './api-deps.ts';
import { authenticate } from './authenticate.ts';
import { registerDeadLetterRoutes } from './dead-letter-routes.ts';
import { boundedJson } from './bounded-json.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { registerHistoryRoutes } from './history-routes.ts';
import { errorHandler, routeNotFound } from './http-errors.ts';
import { registerMemberRoutes } from './member-routes.ts';
import { registerMessageRoutes } from './message-routes.ts';
import { registerPeopleRoutes } from './people-routes.ts';
import { buildOpenApiDocument } from './openapi-document.ts';
import { ROUTES } from './routes.ts';
import { apiSecurityHeaders } from './security-headers.ts';
import { registerSearchRoutes } from './search-routes.ts';
import { registerSessionRoutes } from './session-routes.ts';
import { refuseWritesWhileOff, registerStatusRoute, registerSwitchRoute } from './switch-routes.ts';
import { registerWorkspaceRoutes } from './workspace-routes.ts';

/**
 * Bytes of JSON a request may carry: a full-length message even if every character were
 * escaped as a surrogate pair (12 bytes), plus room for metadata; never below 64 KiB.
 */
export function jsonLimitBytes(maxMessageChars: number): number {
  return Math.max(64 * 1024, maxMessageChars * 12 + 16 * 1024);
}

/** The session-api as an express app, for its own server or for mounting in the embedded mode. */
export function createApiApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestLog(deps));
  app.use(apiSecurityHeaders());
  // Pages embedding the chat from an allowed origin call the API directly; the token travels in a header, never a cookie.
  app.use(
    cors({
      origin: [...deps.config.allowedOrigins],
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'traceparent', 'tracestate'],
      exposedHeaders: ['Retry-After'],
      maxAge: 600,
    }),
  );

  registerHealthRoutes(app, deps);
  registerStatusRoute(app, deps);
  const openapi = JSON.stringify(buildOpenApiDocument());
  app.get(ROUTES.openapi, (_req, res) => {
    res.type('application/json').send(openapi);
  });

  // Tokens are checked before any body is read.
  // Each verified caller with a name is noted in the people directory (not on every request).
  app.use('/api', authenticate(recordingCallers(deps.verifier, deps.ports.peopleRecorder)));
  const json = boundedJson({ limitBytes: jsonLimitBytes(deps.config.limits.maxMessageChars), json: { maxDepth: deps.config.limits.maxJsonDepth, maxEntries: deps.config.limits.maxJsonEntries } });
  app.use('/api', refuseWritesWhileOff(deps));
  registerSwitchRoute(app, deps, json);
  registerWorkspaceRoutes(app, deps, json);
  registerSessionRoutes(app, deps, json);
  registerMemberRoutes(app, deps);
  registerMessageRoutes(app, deps, json);
  registerHistoryRoutes(app, deps);
  registerSearchRoutes(app, deps);
  registerPeopleRoutes(app, deps);
  registerDeadLetterRoutes(app, deps, json);

  app.use(routeNotFound);
  app.use(errorHandler(deps.logger));
  return app;
}

const PROBES = new Set<string>([ROUTES.healthz, ROUTES.readyz, ROUTES.metrics, ROUTES.status]);

/**
 * Traces and counts every request (labelled by route template, so labels stay bounded) and logs
 * one line for it, with neither headers (tokens) nor bodies (message text).
 */
function requestLog(deps: ApiDeps): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let traced: TracedRequest | undefined;
    // Registered before the tracer's own listener, so the route is named before the span ends.
    res.once('finish', () => {
      const route = routeTemplate(req);
      if (route !== undefined) traced?.setRoute(route);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = { method: req.method, route: route ?? 'unmatched', path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 };
      // Probes and scrapes arrive every few seconds: keep them out of the info log.
      if (route !== undefined && PROBES.has(route)) deps.logger.debug(line, 'request');
      else deps.logger.info(line, 'request');
    });
    traceHttpRequest(
      req,
      res,
      (request) => {
        traced = request;
        next();
      },
      chatMetrics(),
    );
  };
}

function routeTemplate(req: Request): string | undefined {
  const route: unknown = req.route;
  if (typeof route !== 'object' || route === null) return undefined;
  const path = (route as { path?: unknown }).path;
  return typeof path === 'string' ? path : undefined;
}
