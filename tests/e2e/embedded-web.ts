import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@chat/config';
import { startEmbeddedChat, type EmbeddedChat } from '@chat/standalone';
import { createLogger } from '@chat/telemetry';
import type { Page } from 'playwright-core';
import { onFreePort } from '../support/ports.ts';

/**
 * The one-process chat in this process, serving a given build of the UI on a port known before it
 * starts (its own origin must be in ALLOWED_ORIGINS), with extra settings from `env`.
 */
export async function startEmbeddedWeb(webRoot: string, env: Record<string, string> = {}): Promise<{ chat: EmbeddedChat; url: string; secret: string }> {
  const secret = randomBytes(32).toString('hex');
  return onFreePort(async (port) => {
    const url = `http://127.0.0.1:${port}`;
    const config = loadConfig(
      { CHAT_BACKEND: 'embedded', NODE_ENV: 'test', DEV_SIGNIN: '1', JWT_SECRET: secret, HOST: '127.0.0.1', ALLOWED_ORIGINS: url, LOG_LEVEL: 'silent', ...env },
      { requireAuth: true },
    );
    const chat = await startEmbeddedChat({ config, logger: createLogger('web-test', 'silent'), persistent: false, port, webRoot });
    return { chat, url, secret };
  });
}

/** A server that answers every request and upgrade with nothing but records that it came. */
export class RecordingListener {
  readonly requests: string[] = [];
  readonly #server: Server;

  constructor() {
    const record = (req: IncomingMessage) => this.requests.push(`${req.method ?? '?'} ${req.url ?? ''} ${req.headers.authorization ?? ''}`);
    this.#server = createServer((req, res) => {
      record(req);
      res.writeHead(200, { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' }).end('{}');
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: { destroy(): void }) => {
      record(req);
      socket.destroy();
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/** Collects what the page reports about its Content-Security-Policy: violation events and console errors. */
export async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) consoleErrors.push(message.text());
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    (globalThis as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  return async () => {
    const events = await page.evaluate(() => (globalThis as unknown as { cspViolations?: string[] }).cspViolations ?? []).catch(() => []);
    return [...events, ...consoleErrors];
  };
}
