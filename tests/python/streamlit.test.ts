import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../e2e/browser.ts';
import { buildWeb, WebServer } from '../e2e/web-server.ts';
import { candidatePort } from '../support/ports.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { CLIENT_MODULES, PYTHON, pythonAvailable, run } from './python-runtime.ts';
import { StreamlitHost } from './streamlit-host.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = `${ROOT}clients/streamlit`;
const PYTHONPATH = [`${PACKAGE}/src`, `${ROOT}clients/python/src`, PACKAGE].join(':');
const PYTEST_TIMEOUT_MS = 120_000;

const python = await pythonAvailable([...CLIENT_MODULES, 'fastapi', 'uvicorn']);
const describePython = python ? describe : describe.skip;
const describeBrowser = python && chromiumAvailable() ? describe : describe.skip;

// The one-process mode: its kill switch lives in its own memory, so turning chat off here turns
// it off for no other suite (the services' switch is a key on the shared Redis).
const SWITCH_ENV = { CHAT_SWITCH_POLL_MS: '200' };

async function setSwitch(stack: Stack, chat: 'on' | 'off'): Promise<void> {
  const admin = await stack.token(randomUUID(), { admin: true });
  const answer = await fetch(`${stack.apiUrl}/api/chat/admin/switch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ chat }),
  });
  expect(answer.status).toBe(200);
}

/** The last value read, once it equals `expected` or after `ms`. */
async function until<T>(read: () => Promise<T>, expected: T, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (JSON.stringify(value) !== JSON.stringify(expected) && Date.now() < deadline) {
    await sleep(100);
    value = await read();
  }
  return value;
}

describePython("the Streamlit component's and its example backend's pytest suite against the embedded stack", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('embedded', { env: SWITCH_ENV });
  }, 60_000);

  afterAll(async () => {
    await stack.stop();
  }, 30_000);

  it(
    'pass',
    async () => {
      const result = await run(PYTHON, ['-m', 'pytest', 'tests', '-q', '-p', 'no:cacheprovider'], {
        cwd: PACKAGE,
        timeoutMs: PYTEST_TIMEOUT_MS,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', CHAT_API_URL: stack.apiUrl, CHAT_JWT_SECRET: stack.secret },
      });
      if (result.code !== 0) throw new Error(`pytest failed (exit ${result.code}):\n${result.output}`);
      expect(result.output).toMatch(/\d+ passed/);
      expect(result.output).not.toMatch(/\d+ (skipped|xfailed|deselected)/);
    },
    PYTEST_TIMEOUT_MS,
  );
});

/** The example backend under uvicorn, as an analysis page's backend runs it. */
async function startBackend(stack: Stack, pageOrigin: string, tokenTtl = 300): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const port = await candidatePort();
  const child = spawn(PYTHON, ['-m', 'uvicorn', 'example.backend:app', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warning'], {
    cwd: PACKAGE,
    env: { ...process.env, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1', CHAT_API_URL: stack.apiUrl, CHAT_JWT_SECRET: stack.secret, PAGE_ORIGINS: pageOrigin, TOKEN_TTL: String(tokenTtl) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const up = await fetch(`${url}/openapi.json`).then((r) => r.ok, () => false);
    if (up) return { url, child, output: () => output };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`the example backend did not start:\n${output}`);
}

describeBrowser('the Streamlit component in Chromium, with the example backend and the chat view', () => {
  let stack: Stack;
  let webRoot: string;
  let web: WebServer;
  let chatUrl: string;
  let host: StreamlitHost;
  let hostUrl: string;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let browser: Browser;

  beforeAll(async () => {
    webRoot = await buildWeb();
    // Both pages are bound first, so their origins are known before the chat starts.
    // The chat view may be pointed at the one-process chat's API and gateway: its config lists them.
    const toWs = (url: string) => url.replace(/^http/, 'ws');
    web = new WebServer(webRoot, () => Number(new URL(stack.apiUrl).port), () => ({ apiUrls: [stack.apiUrl], wsUrls: [...stack.gatewayUrls, stack.apiUrl].map(toWs), frameAncestors: ["'self'", hostUrl] }));
    chatUrl = await web.listen(0);
    host = new StreamlitHost(`${PACKAGE}/src/chat_streamlit/frontend`);
    hostUrl = await host.listen(0);
    // The chat view's origin opens the WebSocket; the Streamlit page's origin asks GET /status.
    stack = await startStack('embedded', { env: { ...SWITCH_ENV, ALLOWED_ORIGINS: `${chatUrl},${hostUrl}` } });
    backend = await startBackend(stack, hostUrl);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    const steps: (() => unknown)[] = [() => browser.close(), () => backend.child.kill('SIGTERM'), () => host.close(), () => web.close(), () => stack.stop(), () => rm(webRoot, { recursive: true, force: true })];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
  }, 60_000);

  async function post(url: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  }

  async function frameState(page: Page): Promise<string | null> {
    return page.frameLocator('#component').locator('body').getAttribute('data-chat-state', { timeout: 2000 }).catch(() => null);
  }

  async function heights(page: Page): Promise<number[]> {
    return page.evaluate(() => (window as unknown as { frameHeights: number[] }).frameHeights);
  }

  it(
    'fetches a token from the backend, shows the conversation, sizes itself, and hides while chat is off',
    async () => {
      const [ana, bo] = [randomUUID(), randomUUID()];
      const created = await post(`${backend.url}/analyses/${encodeURIComponent('risk Q3 <2026>')}/chat`, { title: 'Q3 risk', members: [ana, bo] });
      expect(created.status).toBe(200);
      const sessionId = created.body['sessionId'] as string;
      const boToken = await stack.token(bo, { name: 'Bo' });
      expect((await post(`${stack.apiUrl}/api/chat/sessions/${sessionId}/messages`, { body: 'VaR is <b>up</b> 3%' }, boToken)).status).toBe(201);

      const args = { sessionId, user: ana, name: 'Ana', tokenUrl: `${backend.url}/chat-token`, chatUrl, apiUrl: stack.apiUrl, wsUrl: stack.gatewayUrls[0].replace(/^http/, 'ws'), height: 420, statusPollMs: 300 };
      const context = await browser.newContext({ viewport: { width: 800, height: 700 } });
      const page = await context.newPage();
      const requests: { url: string; origin: string; body: string }[] = [];
      page.on('request', (r) => requests.push({ url: r.url(), origin: new URL(r.url()).origin, body: r.postData() ?? '' }));
      const tokenAnswers: string[] = [];
      page.on('response', (r) => {
        if (r.url() === args.tokenUrl && r.status() === 200) void r.json().then((b: { token: string }) => tokenAnswers.push(b.token), () => undefined);
      });
      await page.goto(`${hostUrl}/#${encodeURIComponent(JSON.stringify(args))}`);

      const view = page.frameLocator('#component').frameLocator('#chat');
      await view.getByText('VaR is <b>up</b> 3%').waitFor({ timeout: 20_000 });
      await view.getByTestId('connection-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 });
      expect(await frameState(page)).toBe('shown');
      // Sized by the page: the chat's height setting, reported to the host with setFrameHeight.
      expect((await heights(page)).at(-1)).toBeGreaterThanOrEqual(420);
      expect(await page.locator('#component').evaluate((el) => el.getBoundingClientRect().height)).toBeGreaterThanOrEqual(420);

      // The token went to the chat only: never to the page's own origin, and back to the backend never.
      expect(tokenAnswers.length).toBe(1);
      const token = tokenAnswers[0]!;
      const carrying = requests.filter((r) => r.url.includes(token) || r.body.includes(token));
      expect(carrying.length).toBeGreaterThan(0);
      expect(carrying.every((r) => r.origin === chatUrl || r.origin === args.wsUrl.replace(/^ws/, 'http'))).toBe(true);

      // Ana writes from the embedded view; the message is stored under her id.
      await view.getByRole('textbox').fill('Looks right to me');
      await view.getByRole('textbox').press('Enter');
      await view.getByText('Looks right to me').waitFor({ timeout: 10_000 });
      const expected = ['bo: VaR is <b>up</b> 3%', 'ana: Looks right to me'];
      const stored = await until(async () => {
        const history = await fetch(`${stack.apiUrl}/api/chat/history/${sessionId}`, { headers: { authorization: `Bearer ${boToken}` } });
        const body = (await history.json()) as { messages: { body: string; userId: string }[] };
        return body.messages.map((m) => `${m.userId === ana ? 'ana' : 'bo'}: ${m.body}`);
      }, expected);
      expect(stored).toEqual(expected);

      // Chat off: the component hides itself (height 0, no chat view, no token in the page).
      await setSwitch(stack, 'off');
      expect(await until(() => frameState(page), 'hidden')).toBe('hidden');
      expect((await heights(page)).at(-1)).toBe(0);
      expect(await page.frameLocator('#component').locator('#chat').getAttribute('src')).toBeNull();
      expect(await page.locator('#component').evaluate((el) => el.getBoundingClientRect().height)).toBe(0);

      // Chat on again: it comes back with a new token and the conversation.
      await setSwitch(stack, 'on');
      expect(await until(() => frameState(page), 'shown')).toBe('shown');
      await view.getByText('Looks right to me').waitFor({ timeout: 20_000 });
      expect((await heights(page)).at(-1)).toBeGreaterThanOrEqual(420);
      await context.close();
    },
    120_000,
  );

  it(
    'fetches a new token before the old one runs out and opens the view again with it',
    async () => {
      const shortLived = await startBackend(stack, hostUrl, 7);
      try {
        const ana = randomUUID();
        const created = await post(`${shortLived.url}/analyses/a-${randomUUID()}/chat`, { members: [ana] });
        const args = { sessionId: created.body['sessionId'], user: ana, name: 'Ana', tokenUrl: `${shortLived.url}/chat-token`, chatUrl, apiUrl: stack.apiUrl, wsUrl: null, height: 300, statusPollMs: 60_000 };
        const page = await browser.newPage();
        const tokens: string[] = [];
        page.on('response', (r) => {
          if (r.url() === args.tokenUrl && r.status() === 200) void r.json().then((b: { token: string }) => tokens.push(b.token), () => undefined);
        });
        // Every address the view is opened at, as the browser asks for it: on a slow machine the
        // first may already be gone when the page could be read.
        const opened: string[] = [];
        page.on('request', (r) => {
          if (r.isNavigationRequest() && r.url().startsWith(chatUrl)) opened.push(r.url());
        });
        await page.goto(`${hostUrl}/#${encodeURIComponent(JSON.stringify(args))}`);
        expect(await until(() => frameState(page), 'shown')).toBe('shown');
        // At 80 % of the 7 s life: a second token, and the view opened with it.
        expect(await until(() => Promise.resolve(tokens.length), 2, 12_000)).toBe(2);
        expect(opened[0]).toContain(`token=${tokens[0]!}`);
        expect(await until(() => Promise.resolve(opened.some((url) => url.includes(`token=${tokens[1]!}`))), true)).toBe(true);
        expect(tokens[1]).not.toBe(tokens[0]);
        await page.close();
      } finally {
        shortLived.child.kill('SIGTERM');
      }
    },
    60_000,
  );

  it(
    'shows the backend refusal as plain text, and hides when the backend says chat_disabled',
    async () => {
      const stranger = randomUUID();
      const created = await post(`${backend.url}/analyses/a-${randomUUID()}/chat`, { members: [randomUUID()] });
      const args = { sessionId: created.body['sessionId'], user: stranger, name: null, tokenUrl: `${backend.url}/chat-token`, chatUrl, apiUrl: stack.apiUrl, wsUrl: null, height: 300, statusPollMs: 60_000 };
      const page = await browser.newPage();
      await page.goto(`${hostUrl}/#${encodeURIComponent(JSON.stringify(args))}`);
      expect(await until(() => frameState(page), 'failed')).toBe('failed');
      expect(await page.frameLocator('#component').locator('#notice').innerText()).toBe('The chat is not available: forbidden.');
      expect(await page.frameLocator('#component').locator('#chat').getAttribute('src')).toBeNull();
      await page.close();

      // A token URL answering 503 chat_disabled (the backend could not reach a chat that is on).
      const disabled = await browser.newPage();
      await disabled.route(`${backend.url}/chat-token`, (route) =>
        route.fulfill({ status: 503, contentType: 'application/json', headers: { 'access-control-allow-origin': hostUrl, 'access-control-allow-credentials': 'true' }, body: JSON.stringify({ error: { code: 'chat_disabled', message: 'off' } }) }),
      );
      await disabled.goto(`${hostUrl}/#${encodeURIComponent(JSON.stringify(args))}`);
      expect(await until(() => frameState(disabled), 'hidden')).toBe('hidden');
      expect((await heights(disabled)).at(-1)).toBe(0);
      await disabled.close();
    },
    60_000,
  );
});
