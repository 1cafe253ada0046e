import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { LOBBY_SESSION_ID, type EmbeddedChat } from '@chat/standalone';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from './browser.ts';
import { RecordingListener, startEmbeddedWeb, watchCsp } from './embedded-web.ts';
import { buildWeb } from './web-server.ts';

/**
 * The UI's security headers as served by the one-process mode, and the page working under them in
 * Chromium: no CSP violation, its token sent nowhere but its own origin (an address parameter that
 * names another host is ignored), framed only by the pages the setting names.
 */
const describeBrowser = chromiumAvailable() ? describe : describe.skip;

describeBrowser('the UI under its security headers', () => {
  let webRoot: string;
  let chat: EmbeddedChat;
  let url: string;
  let browser: Browser;
  const evil = new RecordingListener();
  let evilUrl: string;
  let framer: Server;
  let framerUrl: string;
  let strangerFramer: Server;
  let strangerUrl: string;

  /** A page on its own origin that frames the chat view. */
  const framingPage = (chatPage: () => string) =>
    createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><iframe id="chat" src="${chatPage()}" width="600" height="400"></iframe>`));

  const listen = async (server: Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  /** A token from the development sign-in, which also makes its holder a member of the lobby. */
  const lobbyToken = async (name: string): Promise<string> => {
    const answer = await fetch(`${url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    if (answer.status !== 200) throw new Error(`dev sign-in answered ${String(answer.status)}`);
    return ((await answer.json()) as { token: string }).token;
  };

  beforeAll(async () => {
    webRoot = await buildWeb();
    evilUrl = `http://127.0.0.1:${await evil.listen()}`;
    let chatPage = '';
    framer = framingPage(() => chatPage);
    strangerFramer = framingPage(() => chatPage);
    framerUrl = await listen(framer);
    strangerUrl = await listen(strangerFramer);
    ({ chat, url } = await startEmbeddedWeb(webRoot, { WEB_FRAME_ANCESTORS: `'self' ${framerUrl}` }));
    chatPage = `${url}/chat/?session=${LOBBY_SESSION_ID}&token=${await lobbyToken('Framed')}`;
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    const steps: (() => Promise<unknown>)[] = [
      () => browser.close(),
      () => chat.stop(),
      () => evil.close(),
      () => new Promise((resolve) => framer.close(resolve)),
      () => new Promise((resolve) => strangerFramer.close(resolve)),
      () => rm(webRoot, { recursive: true, force: true }),
    ];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
  }, 60_000);

  it('sends a strict CSP, nosniff and no-referrer on every page, asset, config and miss', async () => {
    const index = await (await fetch(`${url}/`)).text();
    const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(index)?.[1];
    expect(asset).toBeDefined();
    for (const path of ['/', '/chat/', `/${asset ?? ''}`, '/config.json', '/no-such-file']) {
      const response = await fetch(`${url}${path}`);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp.split('; ')).toEqual(
        expect.arrayContaining(["default-src 'none'", "script-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'none'", `frame-ancestors 'self' ${framerUrl}`]),
      );
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect(await (await fetch(`${url}/config.json`)).json()).toEqual({ apiUrls: [], wsUrls: [] });
  });

  async function signIn(page: Page, name: string): Promise<void> {
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Go to the lobby' }).click();
    await page.getByTestId('connection-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
  }

  it('signs in, connects and chats with no CSP violation', async () => {
    const page = await (await browser.newContext()).newPage();
    const violations = await watchCsp(page);
    await page.goto(`${url}/`);
    await signIn(page, 'Csp Checker');
    await page.getByRole('textbox', { name: 'Message' }).fill('under the policy');
    await page.keyboard.press('Enter');
    await page.getByTestId('message').getByText('under the policy').waitFor();
    expect(await violations()).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('ignores api and ws in the address that name another host: the token goes only to its own origin', async () => {
    // The CSP would block the other host anyway; bypassing it shows that the page itself never tries.
    const context = await browser.newContext({ bypassCSP: true });
    const token = await lobbyToken('Target');
    const evilWs = evilUrl.replace(/^http/, 'ws');
    const chatPage = await context.newPage();
    await chatPage.goto(`${url}/chat/?${new URLSearchParams({ session: LOBBY_SESSION_ID, token, api: evilUrl, ws: evilWs }).toString()}`);
    await chatPage.getByTestId('connection-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });

    const lobby = await context.newPage();
    await lobby.goto(`${url}/?${new URLSearchParams({ api: evilUrl, ws: evilWs }).toString()}`);
    await signIn(lobby, 'Lured');
    expect(evil.requests).toEqual([]);
    await context.close();
  }, 120_000);

  it('is framed by a page the setting names, and by no other', async () => {
    const page = await (await browser.newContext()).newPage();
    const violations = await watchCsp(page);
    await page.goto(framerUrl);
    const framed = page.frameLocator('#chat');
    await framed.getByTestId('connection-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
    expect(await violations()).toEqual([]);

    const stranger = await (await browser.newContext()).newPage();
    await stranger.goto(strangerUrl);
    await stranger.waitForTimeout(1_500);
    const chatFrame = stranger.frames().find((frame) => frame !== stranger.mainFrame());
    // Chromium shows its own error page in place of a framing the policy forbids.
    expect(await chatFrame?.locator('#app').count()).toBe(0);
    await page.context().close();
    await stranger.context().close();
  }, 120_000);
});
