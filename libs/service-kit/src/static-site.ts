import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Serves the built web app, or a page saying how to build it when it is missing. */
export function createStaticSite(root: string): HttpHandler {
  if (!existsSync(root)) {
    return (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`The web app is not built yet: run "pnpm --filter @chat/web build" (looked in ${root}).\n`);
    };
  }
  const serve = sirv(root, { dev: false, etag: true, single: false });
  return (req, res) =>
    serve(req, res, () => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
    });
}
