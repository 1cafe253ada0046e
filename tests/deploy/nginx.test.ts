import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClient, type Frame } from '@chat/gateway/testing';
import { API_CONTENT_SECURITY_POLICY } from '@chat/service-kit';
import { LOBBY_SESSION_ID, type EmbeddedChat } from '@chat/standalone';
import { startEmbeddedWeb } from '../e2e/embedded-web.ts';
import { candidatePort } from '../support/ports.ts';

const root = join(import.meta.dirname, '..', '..');
const config = readFileSync(join(root, 'deploy', 'nginx', 'nginx.conf'), 'utf8');
const NGINX = process.env['NGINX_PATH'] ?? '/usr/sbin/nginx';

/** The value of a directive wherever it stands (first occurrence). */
const directive = (name: string): string | undefined => new RegExp(`^\\s*${name}\\s+([^;]+);`, 'm').exec(config)?.[1]?.trim();
const seconds = (value: string | undefined): number => Number(/^(\d+)s$/.exec(value ?? '')?.[1] ?? Number.NaN);

describe('deploy/nginx/nginx.conf as written', () => {
  it('logs paths without query strings or referrers, so ?token= never reaches a log', () => {
    const format = /log_format\s+chat\s+((?:'[^']*'\s*)+);/.exec(config)?.[1] ?? '';
    expect(format).toContain('$uri');
    expect(format).not.toMatch(/\$request\b|\$request_uri|\$args|\$query_string|\$arg_|\$http_referer|\$request_body/);
    expect(directive('access_log')).toMatch(/ chat$/);
    // Error lines quote the whole request line; only critical ones are written.
    expect(directive('error_log')).toMatch(/ crit$/);
  });

  it('gives clients a few seconds for headers and body, and WebSockets a read timeout above the heartbeat', () => {
    expect(seconds(directive('client_header_timeout'))).toBeLessThanOrEqual(10);
    expect(seconds(directive('client_body_timeout'))).toBeLessThanOrEqual(15);
    expect(seconds(directive('proxy_connect_timeout'))).toBeLessThanOrEqual(10);
    const ws = /location \/ws\/ \{([^}]*)\}/.exec(config)?.[1] ?? '';
    expect(ws).toMatch(/proxy_set_header Upgrade \$http_upgrade/);
    const read = seconds(/proxy_read_timeout\s+([^;]+);/.exec(ws)?.[1]);
    // Above the 30 s heartbeat, so an idle but alive socket stays; well below an hour, so a dead one goes.
    expect(read).toBeGreaterThan(30);
    expect(read).toBeLessThanOrEqual(120);
  });

  it('adds nosniff, no-referrer and a fallback CSP to every answer', () => {
    expect(config).toMatch(/add_header X-Content-Type-Options "nosniff" always;/);
    expect(config).toMatch(/add_header Referrer-Policy "no-referrer" always;/);
    expect(config).toMatch(/add_header Content-Security-Policy \$csp_fallback always;/);
    // The same strict policy the API sends itself (service-kit), so an answer reads alike with or without nginx.
    expect(config).toContain(`''      "${API_CONTENT_SECURITY_POLICY}";`);
  });
});

/** In CI nginx must be there (.ci/run installs it); elsewhere its absence skips loudly. */
function nginxAvailable(): boolean {
  if (existsSync(NGINX)) return true;
  const message = `The nginx tests need nginx at ${NGINX}; install it with: apt-get install -y nginx-light`;
  if (process.env['CI']) throw new Error(message);
  console.warn(`\n*** SKIPPING nginx tests ***\n${message}\n`);
  return false;
}

const describeNginx = nginxAvailable() ? describe : describe.skip;

describeNginx('deploy/nginx/nginx.conf in a real nginx in front of the chat', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-nginx-'));
  let chat: EmbeddedChat;
  let nginx: ChildProcess | undefined;
  let base: string;
  const secretToken = 'tok-must-not-be-logged';

  beforeAll(async () => {
    const started = await startEmbeddedWeb(join(root, 'apps', 'web', 'index-not-built'));
    chat = started.chat;
    const upstream = new URL(started.url).host;
    const port = await candidatePort();
    // The deploy file with this machine's addresses: upstreams to the one-process chat, logs and pid here.
    const local = config
      .replace(/server (gateway-\d|session-api):\d+;/g, `server ${upstream};`)
      .replace('listen 80;', `listen 127.0.0.1:${port};`)
      .replaceAll('/var/log/nginx/', `${dir}/`);
    writeFileSync(join(dir, 'nginx.conf'), local);
    const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `pid ${dir}/nginx.pid; daemon off;`];
    const check = spawnSync(NGINX, ['-t', ...args], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`nginx -t refused the config:\n${check.stderr}`);
    nginx = spawn(NGINX, args, { stdio: 'ignore' });
    base = `http://127.0.0.1:${port}`;
    for (let tries = 0; ; tries++) {
      try {
        await fetch(`${base}/healthz`);
        break;
      } catch (error) {
        if (tries > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }, 180_000);

  afterAll(async () => {
    nginx?.kill('SIGTERM');
    // chat is unset when the start failed part way.
    await Promise.resolve().then(() => chat.stop()).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('passes nginx -t', () => {
    const check = spawnSync(NGINX, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `pid ${dir}/nginx-t.pid;`], { encoding: 'utf8' });
    expect(check.stderr).toMatch(/syntax is ok/);
    expect(check.status).toBe(0);
  });

  it('sends each security header once: the UI keeps its own CSP, the API and misses get the strict one', async () => {
    const page = await fetch(`${base}/?token=${secretToken}`);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self'/);
    const api = await fetch(`${base}/api/chat/sessions?token=${secretToken}`);
    expect(api.status).toBe(401);
    expect(api.headers.get('content-security-policy')).toBe(API_CONTENT_SECURITY_POLICY);
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('x-powered-by')).toBeNull();
  });

  it('carries a WebSocket with its token in the query, and logs the path without it', async () => {
    const signIn = await fetch(`${base}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Logged"}' });
    const { token } = (await signIn.json()) as { token: string };
    const client = new TestClient(`${base.replace('http', 'ws')}/ws/chat/${LOBBY_SESSION_ID}?token=${token}`);
    await client.next((frame: Frame) => frame['type'] === 'welcome', 15_000);
    client.close();
    await client.closed;
    // nginx writes a line when the request ends; give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const log = readFileSync(join(dir, 'access.log'), 'utf8');
    expect(log).toContain(`GET /ws/chat/${LOBBY_SESSION_ID} HTTP/1.1" 101`);
    expect(log).toContain('GET /api/chat/sessions HTTP/1.1" 401');
    expect(log).not.toContain(token);
    expect(log).not.toContain(secretToken);
    expect(log).not.toContain('?');
  });

  it('drops a client that never finishes its headers within a few seconds', async () => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    const started = Date.now();
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n'));
    await new Promise((resolve) => socket.on('close', resolve));
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(Date.now() - started).toBeGreaterThan(4_000);
  }, 15_000);
});
