import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { signToken } from '@chat/auth';
import type { EmbeddedChat } from '@chat/standalone';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from './browser.ts';
import { startEmbeddedWeb, watchCsp } from './embedded-web.ts';
import { buildWeb } from './web-server.ts';

/**
 * The kill switch as a person in the chat sees it (the one-process mode, real Chromium): the
 * words "Chat is turned off", history still there and the input closed, and the chat back by
 * itself once an admin turns it on again, whether it went off during the visit or before it.
 */
const describeBrowser = chromiumAvailable() ? describe : describe.skip;

// The SDK asks GET /status every 30 s while chat is off (and the answer may be cached 5 s).
const BACK_WITHIN_MS = 50_000;

describeBrowser('chat turned off, in the browser', () => {
  let webRoot: string;
  let chat: EmbeddedChat;
  let url: string;
  let secret: string;
  let browser: Browser;
  let admin: string;
  const alice = randomUUID();
  let aliceToken: string;

  const api = async (path: string, token: string, body: unknown): Promise<Response> =>
    fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const setChat = async (state: 'on' | 'off') => expect((await api('/api/chat/admin/switch', admin, { chat: state })).status).toBe(200);

  async function sessionWithHistory(lines: string[]): Promise<string> {
    const created = await api('/api/chat/sessions', admin, { title: 'Switch', members: [alice] });
    const { id } = (await created.json()) as { id: string };
    for (const body of lines) expect((await api(`/api/chat/sessions/${id}/messages`, aliceToken, { body })).status).toBe(201);
    return id;
  }

  async function open(sessionId: string): Promise<{ page: Page; violations: () => Promise<string[]> }> {
    const page = await (await browser.newContext()).newPage();
    const violations = await watchCsp(page);
    await page.goto(`${url}/chat/?session=${sessionId}&token=${aliceToken}`);
    return { page, violations };
  }

  const connected = (page: Page, timeout = 20_000) => page.getByTestId('connection-status').filter({ hasText: 'Connected' }).waitFor({ timeout });
  const turnedOff = (page: Page) => page.getByTestId('chat-disabled-banner').filter({ hasText: 'Chat is turned off' }).waitFor({ timeout: 20_000 });

  beforeAll(async () => {
    webRoot = await buildWeb();
    ({ chat, url, secret } = await startEmbeddedWeb(webRoot));
    admin = await signToken(secret, { userId: randomUUID(), name: 'Operator', admin: true });
    aliceToken = await signToken(secret, { userId: alice, name: 'Alice' });
    browser = await launchChromium();
  }, 300_000);

  // A test that fails with the chat off must not leave it off for the next one.
  afterEach(() => setChat('on'));

  afterAll(async () => {
    const steps: (() => Promise<unknown>)[] = [() => browser.close(), () => chat.stop(), () => rm(webRoot, { recursive: true, force: true })];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
  }, 60_000);

  it('says "Chat is turned off" when it goes off during a visit, keeps the history, and comes back by itself', async () => {
    const sessionId = await sessionWithHistory(['before the switch']);
    const { page, violations } = await open(sessionId);
    await connected(page);
    await page.getByTestId('message').getByText('before the switch').waitFor();

    await setChat('off');
    await turnedOff(page);
    expect(await page.getByTestId('connection-status').innerText()).toContain('Chat is turned off');
    expect(await page.getByTestId('message').getByText('before the switch').isVisible()).toBe(true);
    const input = page.getByRole('textbox', { name: 'Message' });
    expect(await input.isDisabled()).toBe(true);
    expect(await input.getAttribute('placeholder')).toBe('Chat is turned off.');

    await setChat('on');
    await connected(page, BACK_WITHIN_MS);
    expect(await page.getByTestId('chat-disabled-banner').count()).toBe(0);
    await input.fill('after the switch');
    await input.press('Enter');
    await page.getByTestId('message').getByText('after the switch').waitFor();
    expect(await violations()).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('opened while chat is already off, shows the history read-only and the notice, then comes back by itself', async () => {
    const sessionId = await sessionWithHistory(['first line', 'second line']);
    await setChat('off');
    const { page } = await open(sessionId);
    await turnedOff(page);
    await page.getByTestId('message').getByText('first line').waitFor({ timeout: 10_000 });
    await page.getByTestId('message').getByText('second line').waitFor();
    expect(await page.getByRole('textbox', { name: 'Message' }).isDisabled()).toBe(true);

    await setChat('on');
    await connected(page, BACK_WITHIN_MS);
    // History was loaded once, not again on the welcome: each line shows once.
    expect(await page.getByTestId('message').getByText('first line').count()).toBe(1);
    await page.context().close();
  }, 120_000);
});
