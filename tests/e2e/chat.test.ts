import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { signToken } from '@chat/auth';
import { createDatabase } from '@chat/db';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_DATABASE_URL } from '../support/services.ts';
import { chromiumAvailable } from './browser.ts';
import { ROOT, type ServiceProcess, type Stack } from './stack.ts';
import { startBrowserStack } from './browser-stack.ts';

/**
 * The web app in Chromium against the real services: one session-api and two gateway
 * replicas on this machine's Redis, NATS JetStream and PostgreSQL.
 * Set E2E_SCREENSHOT=docs/screenshot.png to save a picture of the conversation.
 */
const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);
const { describe } = await import('@jest/globals');
const describeE2e = chromiumAvailable() ? describeReal : describe.skip;

interface Person {
  userId: string;
  name: string;
  token: string;
}

describeE2e('chat in the browser', () => {
  let stack: Stack;
  let webUrl: string;
  let browser: Browser;
  let stopAll: () => Promise<void> = () => Promise.resolve();

  beforeAll(async () => {
    ({ stack, webUrl, browser, stop: stopAll } = await startBrowserStack());
  }, 300_000);

  afterAll(() => stopAll(), 60_000);

  async function person(name: string): Promise<Person> {
    const userId = randomUUID();
    return { userId, name, token: await signToken(stack.secret, { userId, name }) };
  }

  async function newSession(owner: Person, others: Person[]): Promise<string> {
    const response = await fetch(`${webUrl}/api/chat/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Quarterly numbers', members: others.map((p) => p.userId) }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  }

  async function openChat(who: Person, sessionId: string, gateway: ServiceProcess): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 760, height: 560 } });
    const page = await context.newPage();
    const params = new URLSearchParams({ session: sessionId, token: who.token, ws: `ws://127.0.0.1:${gateway.port}` });
    const console: string[] = [];
    page.on('console', (m) => console.push(m.text()));
    await page.goto(`${webUrl}/chat/?${params.toString()}`);
    try {
      await page.getByTestId('connection-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 });
    } catch (error) {
      const shown = await page.locator('main').innerText().catch(() => '(no page)');
      throw new Error(`${who.name} did not connect to ${gateway.name}. Page:\n${shown}\nConsole:\n${console.join('\n')}\nGateway output:\n${gateway.output}`, { cause: error });
    }
    return page;
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.getByRole('textbox', { name: 'Message' }).fill(text);
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  }

  /** The session's rows in chat_messages by seq, once the persister has written `count` of them. */
  async function persistedBodies(sessionId: string, count: number): Promise<string[]> {
    const db = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL });
    try {
      for (let tries = 0; tries < 100; tries++) {
        const { rows } = await sql<{ message: string }>`select message from chat_messages where session_id = ${sessionId} order by seq`.execute(db);
        if (rows.length >= count) return rows.map((r) => r.message);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`fewer than ${count} messages of ${sessionId} reached PostgreSQL`);
    } finally {
      await db.destroy();
    }
  }

  const message = (page: Page, text: string) => page.getByTestId('message').filter({ hasText: text });

  async function seqsOn(page: Page): Promise<number[]> {
    const values = await page.locator('[data-testid=message][data-seq]').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-seq'))));
    return values;
  }

  it('lets two people in two browsers chat through two gateway replicas', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const sessionId = await newSession(alice, [bob]);
    const [a, b] = stack.gateways;
    const alicePage = await openChat(alice, sessionId, a);
    const bobPage = await openChat(bob, sessionId, b);

    await alicePage.getByTestId('online').filter({ hasText: 'Bob' }).waitFor();
    await send(alicePage, 'Hi Bob, the quarterly numbers are in.');
    await message(bobPage, 'the quarterly numbers are in').filter({ hasText: 'Alice' }).waitFor();
    await bobPage.getByTestId('announcer').filter({ hasText: 'New message from Alice: Hi Bob' }).waitFor();
    await message(alicePage, 'the quarterly numbers are in').getByTestId('delivery').filter({ hasText: 'Sent' }).waitFor();

    await bobPage.getByRole('textbox', { name: 'Message' }).pressSequentially('Great');
    await alicePage.getByTestId('typing').filter({ hasText: 'Bob is typing' }).waitFor();
    await bobPage.getByRole('textbox', { name: 'Message' }).fill('Great, thanks!\nI will look at them this afternoon.');
    await bobPage.getByRole('textbox', { name: 'Message' }).press('Enter');
    await message(alicePage, 'I will look at them this afternoon').filter({ hasText: 'Bob' }).waitFor();
    await send(alicePage, 'Perfect, talk to you later.');
    await message(bobPage, 'Perfect').waitFor();
    await alicePage.getByTestId('typing').filter({ hasText: /^$/ }).waitFor();

    expect(await seqsOn(alicePage)).toEqual([1, 2, 3]);
    expect(await seqsOn(bobPage)).toEqual([1, 2, 3]);
    const shot = process.env['E2E_SCREENSHOT'];
    if (shot) await alicePage.screenshot({ path: join(ROOT, shot) });
    await Promise.all([alicePage.context().close(), bobPage.context().close()]);
  }, 60_000);

  it('shows a message as pending while its gateway is away, then sent when it returns, with nothing missing', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const sessionId = await newSession(alice, [bob]);
    const [a, b] = stack.gateways;
    const alicePage = await openChat(alice, sessionId, a);
    const bobPage = await openChat(bob, sessionId, b);
    await send(alicePage, 'before the restart');
    await message(bobPage, 'before the restart').waitFor();

    await a.stop();
    await alicePage.getByTestId('reconnecting-banner').waitFor();
    await send(alicePage, 'written while away');
    await message(alicePage, 'written while away').getByTestId('delivery').filter({ hasText: 'Sending' }).waitFor();
    await send(bobPage, 'sent while Alice was cut off');
    await message(bobPage, 'sent while Alice was cut off').getByTestId('delivery').filter({ hasText: 'Sent' }).waitFor();

    await a.start();
    await alicePage.getByTestId('reconnecting-banner').waitFor({ state: 'detached', timeout: 45_000 });
    await message(alicePage, 'written while away').getByTestId('delivery').filter({ hasText: 'Sent' }).waitFor();
    await message(alicePage, 'sent while Alice was cut off').waitFor();
    await message(bobPage, 'written while away').waitFor();
    expect(await seqsOn(alicePage)).toEqual([1, 2, 3]);
    expect(await seqsOn(bobPage)).toEqual([1, 2, 3]);
    await Promise.all([alicePage.context().close(), bobPage.context().close()]);
    expect(await persistedBodies(sessionId, 3)).toEqual(['before the restart', 'sent while Alice was cut off', 'written while away']);
  }, 90_000);

  it('waits while the browser is offline and reconnects as soon as it is back online', async () => {
    const alice = await person('Alice');
    const sessionId = await newSession(alice, []);
    const page = await openChat(alice, sessionId, stack.gateways[0]);
    await page.context().setOffline(true);
    await page.getByTestId('reconnecting-banner').filter({ hasText: 'You are offline' }).waitFor();
    await page.context().setOffline(false);
    await page.getByTestId('connection-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 5_000 });
    await send(page, 'back online');
    await message(page, 'back online').getByTestId('delivery').filter({ hasText: 'Sent' }).waitFor();
    await page.context().close();
  }, 60_000);

  it('loads older history when scrolled to the top', async () => {
    const [alice, bot] = [await person('Alice'), await person('Analyst')];
    const sessionId = await newSession(alice, [bot]);
    for (let i = 1; i <= 70; i++) {
      const response = await fetch(`${webUrl}/api/chat/sessions/${sessionId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bot.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ body: `Result ${i}` }),
      });
      expect(response.status).toBe(201);
    }
    const page = await openChat(alice, sessionId, stack.gateways[0]);
    await message(page, 'Result 70').waitFor();
    expect(await seqsOn(page)).toEqual(Array.from({ length: 50 }, (_, i) => i + 21));
    // Slow the older page down a little so its loading state can be seen.
    await page.route(/\/api\/chat\/history\/.*before=/, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 700));
      await route.continue();
    });
    await page.getByTestId('message-list').evaluate((el) => el.scrollTo({ top: 0 }));
    await page.getByTestId('loading-older').waitFor();
    await message(page, 'Result 1').filter({ hasText: /Result 1$/ }).waitFor();
    await page.getByTestId('loading-older').waitFor({ state: 'detached' });
    expect(await seqsOn(page)).toEqual(Array.from({ length: 70 }, (_, i) => i + 1));
    await page.getByText('This is the start of the conversation.').waitFor();
    await page.context().close();
  }, 60_000);

  it('says so in plain words when the person is not a member of the session', async () => {
    const [alice, mallory] = [await person('Alice'), await person('Mallory')];
    const sessionId = await newSession(alice, []);
    const context = await browser.newContext();
    const page = await context.newPage();
    const params = new URLSearchParams({ session: sessionId, token: mallory.token, ws: `ws://127.0.0.1:${stack.gateways[0].port}` });
    await page.goto(`${webUrl}/chat/?${params.toString()}`);
    // The page asks whether the caller is a member and says so in place of the chat.
    await page.getByTestId('no-access').filter({ hasText: 'You are not a member of this session' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Message' }).count()).toBe(0);
    await context.close();
  }, 60_000);

  it('explains why an over-long message was not sent and lets it be edited', async () => {
    const alice = await person('Alice');
    const sessionId = await newSession(alice, []);
    const page = await openChat(alice, sessionId, stack.gateways[1]);
    await send(page, 'x'.repeat(4001));
    await page.getByTestId('send-error').filter({ hasText: 'This message is too long' }).waitFor();
    await page.getByRole('button', { name: 'Edit' }).click();
    expect(await page.getByRole('textbox', { name: 'Message' }).inputValue()).toHaveLength(4001);
    expect(await page.getByTestId('send-error').count()).toBe(0);
    await page.context().close();
  }, 60_000);
});
