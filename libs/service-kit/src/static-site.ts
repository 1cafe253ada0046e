import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';
import { SAME_ORIGIN_POLICY, servedWebConfig, webSecurityHeaders, type WebPolicy } from './web-policy.ts';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Where the UI reads which API and WebSocket bases it may use (beside its index.html). */
export const WEB_CONFIG_PATH = '/config.json';

/**
 * Serves the built web app with its security headers, and its `config.json` from the policy;
 * a page saying how to build the app when it is missing.
 */
export function createStaticSite(root: string, policy: WebPolicy = SAME_ORIGIN_POLICY): HttpHandler {
  const headers = webSecurityHeaders(policy);
  const config = JSON.stringify(servedWebConfig(policy));
  const withHeaders = (res: ServerResponse) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  };
  if (!existsSync(root)) {
    return (_req, res) => {
      withHeaders(res);
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`The web app is not built yet: run "pnpm --filter @chat/web build" (looked in ${root}).\n`);
    };
  }
  const serve = sirv(root, { dev: false, etag: true, single: false });
  return (req, res) => {
    withHeaders(res);
    if ((req.url ?? '/').split('?')[0] === WEB_CONFIG_PATH) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(config) });
      res.end(req.method === 'HEAD' ? undefined : config);
      return;
    }
    serve(req, res, () => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
    });
  };
}
