import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { signToken } from '@chat/auth';
import type { SearchResponse } from '@chat/protocol';
import type { Browser } from 'playwright-core';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { chromiumAvailable, launchChromium } from './browser.ts';
import { startStack, type Stack } from './stack.ts';
import { buildWeb, WebServer } from './web-server.ts';

/**
 * Search in Chromium against the real services: the hits show the matched words marked (as text,
 * never markup), and a hit on a message older than the first page of history opens it in place.
 */
const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);
const { describe } = await import('@jest/globals');
const describeE2e = chromiumAvailable() ? describeReal : describe.skip;

/** More than the first page of history the page loads (50), so the oldest hit is not on it. */
const FILLERS = 60;

describeE2e('search in the browser', () => {
  let stack: Stack;
  let web: WebServer;
  let webUrl: string;
  let webRoot: string;
  let browser: Browser;
  let adminToken: string;

  beforeAll(async () => {
    webRoot = await buildWeb();
    web = new WebServer(webRoot, () => stack.api.port, () => ({ apiUrls: [], wsUrls: stack.gateways.map((g) => `ws://127.0.0.1:${g.port}`), frameAncestors: ["'self'"] }));
    webUrl = await web.listen(0);
    stack = await startStack(webUrl);
    browser = await launchChromium();
    adminToken = await signToken(stack.secret, { userId: randomUUID(), admin: true, name: 'Analysis backend' });
  }, 300_000);

  afterAll(async () => {
    const steps: (() => Promise<unknown>)[] = [() => browser.close(), () => web.close(), () => stack.stop(), () => rm(webRoot, { recursive: true, force: true })];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
  }, 60_000);

  async function asBackend(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${webUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    expect([path, response.status]).toEqual([path, method === 'POST' ? 201 : 200]);
    return answer;
  }

  it(
    'marks the matched words in each hit and opens an old message among its neighbours',
    async () => {
      const alice = { userId: randomUUID(), name: 'Alice' };
      const token = await signToken(stack.secret, alice);
      const session = (await asBackend('POST', '/api/chat/sessions', { title: 'Liquidity review', members: [alice.userId] }))['id'] as string;
      await asBackend('POST', `/api/chat/sessions/${session}/messages`, { body: 'Before the report' });
      await asBackend('POST', `/api/chat/sessions/${session}/messages`, { body: 'Quarterly <b>liquidity</b> report is out' });
      for (let i = 1; i <= FILLERS; i++) await asBackend('POST', `/api/chat/sessions/${session}/messages`, { body: `Filler ${i}` });
      await asBackend('POST', `/api/chat/sessions/${session}/messages`, { body: 'LIQUIDITY looks fine now' });
      // Search reads the store: wait until the persister has written both.
      const deadline = Date.now() + 20_000;
      while (((await asBackend('GET', `/api/chat/sessions/${session}/search?q=liquidity`)) as unknown as SearchResponse).hits.length < 2) {
        if (Date.now() > deadline) throw new Error('the messages were not stored in time');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const page = await (await browser.newContext({ viewport: { width: 1000, height: 640 } })).newPage();
      const params = new URLSearchParams({ session, token, ws: `ws://127.0.0.1:${stack.gateways[0].port}` });
      await page.goto(`${webUrl}/chat/?${params.toString()}`);
      await page.getByTestId('message').getByText('LIQUIDITY looks fine now').waitFor({ timeout: 20_000 });
      await expect(page.getByTestId('message').getByText('Quarterly', { exact: false }).count()).resolves.toBe(0);

      await page.getByRole('searchbox', { name: 'Search messages' }).fill('liquidity');
      await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
      const hits = page.getByTestId('search-hit');
      await hits.nth(1).waitFor({ timeout: 10_000 });
      await expect(hits.count()).resolves.toBe(2);
      await expect(hits.nth(0).locator('mark').allInnerTexts()).resolves.toEqual(['LIQUIDITY']);
      await expect(hits.nth(1).locator('mark').allInnerTexts()).resolves.toEqual(['liquidity']);
      // The body's markup is text: no element was made from it.
      await expect(hits.nth(1).locator('.body').innerText()).resolves.toBe('Quarterly <b>liquidity</b> report is out');
      await expect(hits.nth(1).locator('b').count()).resolves.toBe(0);

      await hits.nth(1).click();
      const found = page.locator('[data-testid="message"][data-found="true"]');
      await found.waitFor({ timeout: 20_000 });
      await expect(found.innerText()).resolves.toContain('Quarterly <b>liquidity</b> report is out');
      await expect(found.getAttribute('data-seq')).resolves.toBe('2');
      // In context: its neighbours are there too, and it is scrolled into view.
      await page.getByTestId('message').getByText('Before the report').waitFor();
      await page.getByTestId('message').getByText('Filler 1', { exact: true }).waitFor();
      const inView = await found.evaluate((item) => {
        const box = item.getBoundingClientRect();
        const list = item.closest('[data-testid="message-list"]')?.getBoundingClientRect();
        return list !== undefined && box.top >= list.top && box.bottom <= list.bottom;
      });
      expect(inView).toBe(true);
    },
    120_000,
  );
});
