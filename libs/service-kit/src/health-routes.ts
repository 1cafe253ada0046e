import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { ERROR_CODES } from '@chat/protocol';
import type { Readiness } from './readiness.ts';

export type MetricsHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves /healthz, /readyz and /metrics on a plain node:http server; returns false for any
 * other path so the caller can route it.
 */
export function handleHealthRoutes(req: IncomingMessage, res: ServerResponse, readiness: Readiness, metrics?: MetricsHandler): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    sendJson(res, 200, { status: 'ok' });
    return true;
  }
  if (path === '/readyz') {
    void readiness.report().then((report) => sendJson(res, report.ready ? 200 : 503, report));
    return true;
  }
  if (path === '/metrics' && metrics) {
    metrics(req, res);
    return true;
  }
  return false;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export interface HealthHandlerOptions {
  readiness: Readiness;
  metrics?: MetricsHandler;
  /** Serves every path the health routes do not; without it they are 404 `route_not_found`. */
  otherwise?: RequestListener;
}

/** A whole request handler for a service whose port serves health, readiness and metrics first. */
export function healthHandler(options: HealthHandlerOptions): RequestListener {
  return (req, res) => {
    if (handleHealthRoutes(req, res, options.readiness, options.metrics)) return;
    if (options.otherwise) return options.otherwise(req, res);
    sendJson(res, ERROR_CODES.route_not_found.status, { error: { code: 'route_not_found', message: ERROR_CODES.route_not_found.message } });
  };
}
