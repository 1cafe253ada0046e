import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from './browser.ts';
import { ServiceProcess } from './stack.ts';
import { buildWeb } from './web-server.ts';

/**
 * The single-process mode as a newcomer meets it: the page served by that process, the
 * development sign-in, the session picker and the lobby. It needs no external service.
 */
const describeBrowser = chromiumAvailable() ? describe : describe.skip;

describeBrowser('the single-process mode in the browser', () => {
  let chat: ServiceProcess;
  let url: string;
  let browser: Browser;
  const folders: string[] = [];

  beforeAll(async () => {
    const webRoot = await buildWeb();
    const dataDir = await mkdtemp(join(tmpdir(), 'chat-standalone-'));
    folders.push(webRoot, dataDir);
    chat = await ServiceProcess.startOnFreePort('standalone', 'apps/standalone/src/main.ts', (port) => ({
      DATA_DIR: dataDir,
      WEB_ROOT: webRoot,
      GATEWAY_PORT: String(port),
      HOST: '127.0.0.1',
      ALLOWED_ORIGINS: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'warn',
    }));
    url = `http://127.0.0.1:${chat.port}`;
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    const steps: (() => Promise<unknown>)[] = [() => browser.close(), () => chat.stop(), ...folders.map((f) => () => rm(f, { recursive: true, force: true }))];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
  }, 60_000);

  async function signIn(name: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${url}/`);
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('my-user-id').waitFor();
    return page;
  }

  const connected = (page: Page) => page.getByTestId('connection-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });

  it('signs two people in by name and lets them chat in the lobby', async () => {
    const ada = await signIn('Ada');
    const grace = await signIn('Grace');
    for (const page of [ada, grace]) {
      await page.getByRole('button', { name: 'Go to the lobby' }).click();
      await connected(page);
    }
    await ada.getByRole('textbox', { name: 'Message' }).fill('Hello from Ada');
    await ada.getByRole('textbox', { name: 'Message' }).press('Enter');
    await grace.getByTestId('message').filter({ hasText: 'Hello from Ada' }).filter({ hasText: 'Ada' }).waitFor();
    await ada.getByTestId('message').filter({ hasText: 'Hello from Ada' }).getByTestId('delivery').filter({ hasText: 'Sent' }).waitFor();
    await Promise.all([ada.context().close(), grace.context().close()]);
  }, 60_000);

  it('creates a session from the picker and opens its chat', async () => {
    const ada = await signIn('Ada Lovelace');
    await ada.getByLabel('Title').fill('Planning');
    await ada.getByRole('button', { name: 'Create and open' }).click();
    await connected(ada);
    expect(new URL(ada.url()).pathname).toBe('/chat/');
    expect(new URL(ada.url()).searchParams.get('session')).toMatch(/^[0-9a-f-]{36}$/);
    await ada.getByText('This is the start of the conversation.').waitFor();
    await ada.context().close();
  }, 60_000);
});
