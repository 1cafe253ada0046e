import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { SAME_ORIGIN_POLICY, servedWebConfig, WEB_CONFIG_PATH, webSecurityHeaders, type WebPolicy } from '@chat/service-kit';
import { exitOf, ROOT } from './stack.ts';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

/** Builds @chat/web into a fresh folder, as `pnpm --filter @chat/web build` does into apps/web/dist. */
export async function buildWeb(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'chat-web-'));
  const vite = join(ROOT, 'apps/web/node_modules/vite/bin/vite.js');
  const child = spawn(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: join(ROOT, 'apps/web'), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const code = await exitOf(child, 90_000);
  if (code !== 0) throw new Error(`web build failed (${code}):\n${output}`);
  return outDir;
}

/**
 * Serves the built UI and passes /api/ to the session-api, as the nginx of deploy/ does,
 * so the page and the REST API share one origin. The page gets the gateways' headers and
 * `config.json` for the given policy (which WebSocket bases it may pick).
 */
export class WebServer {
  readonly #root: string;
  readonly #apiPort: () => number;
  readonly #server: Server;
  readonly #policy: () => WebPolicy;

  /** `apiPort` and `policy` are read per request, so the page's origin can be bound before the services start. */
  constructor(root: string, apiPort: () => number, policy: () => WebPolicy = () => SAME_ORIGIN_POLICY) {
    this.#root = root;
    this.#apiPort = apiPort;
    this.#policy = policy;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async listen(port: number): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://web').pathname;
    if (path.startsWith('/api/')) return this.#proxy(req, res);
    for (const [name, value] of Object.entries(webSecurityHeaders(this.#policy()))) res.setHeader(name, value);
    if (path === WEB_CONFIG_PATH) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(servedWebConfig(this.#policy())));
    const file = normalize(join(this.#root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(this.#root)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  }

  #proxy(req: IncomingMessage, res: ServerResponse): void {
    const upstream = request({ host: '127.0.0.1', port: this.#apiPort(), path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  }
}
