import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { signToken } from '@chat/auth';
import type { Browser, Page } from 'playwright-core';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { chromiumAvailable } from './browser.ts';
import { ROOT, type Stack } from './stack.ts';
import { startBrowserStack } from './browser-stack.ts';

/**
 * The analyst's workspace in Chromium against the real services: the session list with unread
 * badges, switching sessions without a reload, "seen by", a result card and the analysis status.
 * Set E2E_SCREENSHOT=docs/screenshot.png to save a picture of the workspace.
 */
const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);
const { describe } = await import('@jest/globals');
const describeE2e = chromiumAvailable() ? describeReal : describe.skip;

interface Person {
  userId: string;
  name: string;
  token: string;
}

describeE2e('the workspace in the browser', () => {
  let stack: Stack;
  let webUrl: string;
  let browser: Browser;
  let stopAll: () => Promise<void> = () => Promise.resolve();
  let adminToken: string;

  beforeAll(async () => {
    ({ stack, webUrl, browser, stop: stopAll } = await startBrowserStack());
    adminToken = await signToken(stack.secret, { userId: randomUUID(), admin: true, name: 'Analysis backend' });
  }, 300_000);

  afterAll(() => stopAll(), 60_000);

  async function person(name: string): Promise<Person> {
    const userId = randomUUID();
    return { userId, name, token: await signToken(stack.secret, { userId, name }) };
  }

  async function asBackend(method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${webUrl}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await response.json()) as Record<string, unknown>;
    expect([path, response.status]).toEqual([path, method === 'POST' ? 201 : 200]);
    return answer;
  }

  async function newSession(title: string, members: Person[]): Promise<string> {
    const created = await asBackend('POST', '/api/chat/sessions', { title, members: members.map((p) => p.userId), metadata: { analysisId: `a-${randomUUID()}` } });
    return created['id'] as string;
  }

  async function openWorkspace(who: Person, sessionId: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
    const page = await context.newPage();
    const gateway = stack.gateways[0];
    const params = new URLSearchParams({ session: sessionId, token: who.token, ws: `ws://127.0.0.1:${gateway.port}` });
    await page.goto(`${webUrl}/chat/?${params.toString()}`);
    await page.getByTestId('connection-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
    return page;
  }

  function item(page: Page, sessionId: string) {
    return page.locator(`[data-testid="session-item"][data-session="${sessionId}"]`);
  }

  it(
    'lists the sessions with live unread badges, switches without reloading, shows seen by, a result card and the analysis status',
    async () => {
      const [alice, bob] = [await person('Alice'), await person('Bob')];
      const review = await newSession('Q3 VaR review', [alice, bob]);
      const hedges = await newSession('FX hedges', [alice, bob]);
      const alicePage = await openWorkspace(alice, review);
      const bobPage = await openWorkspace(bob, review);
      // Bob's second tab, on the same session: it must follow what the first one reads.
      const bobOtherTab = await openWorkspace(bob, review);
      for (const page of [alicePage, bobPage, bobOtherTab]) {
        await expect(page.getByTestId('session-item').allInnerTexts()).resolves.toEqual(expect.arrayContaining([expect.stringContaining('FX hedges'), expect.stringContaining('Q3 VaR review')]));
        await item(page, hedges).waitFor({ timeout: 10_000 });
        await expect(item(page, review).getAttribute('aria-current')).resolves.toBe('page');
      }

      // Unread badges, live, in another tab: a result arrives in the session Bob is not looking at.
      await asBackend('POST', `/api/chat/sessions/${hedges}/messages`, { body: 'Hedge ratio is now 0.82' });
      await asBackend('POST', `/api/chat/sessions/${hedges}/messages`, { body: 'EUR exposure halved' });
      for (const page of [alicePage, bobPage, bobOtherTab]) await item(page, hedges).getByTestId('unread-badge').filter({ hasText: '2' }).waitFor({ timeout: 10_000 });

      // Seen by: Alice writes in the open session; Bob's visible tab reads it.
      await alicePage.getByRole('textbox', { name: 'Message' }).fill('Numbers look stable');
      await alicePage.getByRole('textbox', { name: 'Message' }).press('Enter');
      await bobPage.getByTestId('message').filter({ hasText: 'Numbers look stable' }).waitFor();
      await alicePage.getByTestId('seen-by').filter({ hasText: 'Seen by Bob' }).waitFor({ timeout: 10_000 });

      // A result card, with text that would be markup if it were rendered as HTML.
      await asBackend('POST', `/api/chat/sessions/${review}/messages`, {
        body: 'Q3 VaR 99%: 1.25 M EUR (+0.1)',
        metadata: {
          kind: 'analysis_result',
          version: 1,
          title: 'Q3 VaR <img src=x onerror="document.title=1">',
          summary: 'Value at risk rose after the rate shock.',
          figures: [{ label: 'VaR 99%', value: 1.25, unit: 'M EUR', delta: 0.1 }],
          table: { columns: ['Desk', 'VaR'], rows: [['Rates', 0.8], ['FX', 0.45]] },
          link: { label: 'Open the analysis', url: 'https://analysis.example.com/analyses/42' },
        },
      });
      for (const page of [alicePage, bobPage]) {
        const card = page.getByTestId('result-card');
        await card.waitFor();
        await expect(card.getByRole('heading').innerText()).resolves.toBe('Q3 VaR <img src=x onerror="document.title=1">');
        await expect(card.locator('img').count()).resolves.toBe(0);
        await expect(card.getByTestId('result-figure').innerText()).resolves.toMatch(/VaR 99%\s+1\.25 M EUR \+0\.1 M EUR/);
        await expect(card.getByRole('table').locator('tbody tr').count()).resolves.toBe(2);
        await expect(card.getByRole('link', { name: 'Open the analysis' }).getAttribute('rel')).resolves.toBe('noopener noreferrer');
      }

      // The analysis status, live in the status bar.
      await asBackend('PUT', `/api/chat/sessions/${review}/analysis-status`, { state: 'running', progress: 40 });
      for (const page of [alicePage, bobPage]) await page.getByTestId('analysis-status').filter({ hasText: 'Analysis running: 40 %' }).waitFor({ timeout: 10_000 });
      await asBackend('PUT', `/api/chat/sessions/${review}/analysis-status`, { state: 'failed', reason: 'market data missing' });
      await alicePage.getByTestId('analysis-status').filter({ hasText: 'Analysis failed: market data missing' }).waitFor({ timeout: 10_000 });

      const shot = process.env['E2E_SCREENSHOT'];
      if (shot) await alicePage.screenshot({ path: join(ROOT, shot) });

      // Switching sessions changes the address, not the page; the new session shows where the unread begin.
      await bobPage.evaluate(() => {
        (window as unknown as { stayed: boolean }).stayed = true;
      });
      await item(bobPage, hedges).click();
      await bobPage.getByTestId('message').filter({ hasText: 'EUR exposure halved' }).waitFor();
      await expect(bobPage.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).resolves.toBe(true);
      expect(new URL(bobPage.url()).searchParams.get('session')).toBe(hedges);
      await expect(bobPage.getByTestId('unread-marker').count()).resolves.toBe(1);
      await expect(item(bobPage, hedges).getAttribute('aria-current')).resolves.toBe('page');
      await expect(item(bobPage, hedges).getByTestId('unread-badge').count()).resolves.toBe(0);
      // Bob read them in one tab: his other tab's badge goes; Alice has still not read them.
      await item(bobOtherTab, hedges).getByTestId('unread-badge').waitFor({ state: 'detached', timeout: 10_000 });
      await expect(item(alicePage, hedges).getByTestId('unread-badge').innerText()).resolves.toBe('2');
      // And in the status bar of the newly opened session: nothing reported there.
      await expect(bobPage.getByTestId('analysis-status').count()).resolves.toBe(0);
    },
    120_000,
  );
  it(
    'moves a badge in another tab from the feed alone, with the list not read again, and clears it when the first tab reads',
    async () => {
      const [alice, bob] = [await person('Alice'), await person('Bob')];
      const review = await newSession('Rates review', [alice, bob]);
      const hedges = await newSession('Swap hedges', [alice, bob]);
      const tabA = await openWorkspace(alice, review);
      const tabB = await openWorkspace(alice, review);
      const bobPage = await openWorkspace(bob, hedges);
      for (const page of [tabA, tabB]) {
        await page.locator('[data-testid="session-list"][data-feed="live"]').waitFor({ timeout: 10_000 });
        await item(page, hedges).waitFor({ timeout: 10_000 });
      }
      // Every read of the list in tab B is seen: with the feed up there must be none, so whatever
      // changes on the badge came through the feed.
      const listReads: string[] = [];
      tabB.on('request', (request) => {
        if (new URL(request.url()).pathname === '/api/chat/sessions') listReads.push(request.url());
      });
      // The read that follows the feed's opening has finished by now.
      await tabB.waitForTimeout(1_000);
      const readsBefore = listReads.length;

      await bobPage.getByRole('textbox', { name: 'Message' }).fill('Swap curve moved');
      const sentAt = Date.now();
      await bobPage.getByRole('textbox', { name: 'Message' }).press('Enter');
      await item(tabB, hedges).getByTestId('unread-badge').filter({ hasText: '1' }).waitFor({ timeout: 10_000 });
      const badgeMs = Date.now() - sentAt;
      await expect(item(tabB, hedges).locator('.session-last').innerText()).resolves.toBe('Swap curve moved');
      // The session with the news moves to the top.
      await expect(tabB.getByTestId('session-item').first().getAttribute('data-session')).resolves.toBe(hedges);
      expect(listReads.length).toBe(readsBefore);
      // The list used to be read every 2 s; the feed brings it well within that.
      expect(badgeMs).toBeLessThan(2_000);

      // Alice reads it in tab A: tab B's badge goes, again without reading the list.
      await item(tabA, hedges).click();
      await tabA.getByTestId('message').filter({ hasText: 'Swap curve moved' }).waitFor();
      await item(tabB, hedges).getByTestId('unread-badge').waitFor({ state: 'detached', timeout: 10_000 });
      expect(listReads.length).toBe(readsBefore);
    },
    120_000,
  );
});
