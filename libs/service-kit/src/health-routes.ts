import type { IncomingMessage, ServerResponse } from 'node:http';
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
