import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { signToken } from '@chat/auth';
import type { Browser, Page } from 'playwright-core';
import type { EmbeddedChat } from '@chat/standalone';
import { chromiumAvailable, launchChromium } from './browser.ts';
import { startEmbeddedWeb } from './embedded-web.ts';
import { buildWeb } from './web-server.ts';

/**
 * People, not ids, in Chromium against the one-process chat (PGlite keeps the people; the contract
 * suites cover both backends): a session is created by picking a person by name with the keyboard,
 * shared by a copied link, and the link opens the session for a member and says so to someone who
 * is not one; adding people offers only those not in the session yet.
 */
const describeE2e = chromiumAvailable() ? describe : describe.skip;

interface Person {
  userId: string;
  name: string;
  token: string;
}

describeE2e('people by name and share links in the browser', () => {
  let chat: EmbeddedChat;
  let secret: string;
  let webUrl: string;
  let webRoot: string;
  let browser: Browser;

  beforeAll(async () => {
    webRoot = await buildWeb();
    ({ chat, url: webUrl, secret } = await startEmbeddedWeb(webRoot));
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    const steps: (() => Promise<unknown>)[] = [() => browser.close(), () => chat.stop(), () => rm(webRoot, { recursive: true, force: true })];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
  }, 60_000);

  async function person(name: string): Promise<Person> {
    const userId = randomUUID();
    return { userId, name, token: await signToken(secret, { userId, name }) };
  }

  async function api(who: Person, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${webUrl}${path}`, { headers: { authorization: `Bearer ${who.token}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Signs the person in once (any request does) and waits until the directory lists them. */
  async function seen(who: Person): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = await api(who, `/api/chat/people?q=${encodeURIComponent(who.name)}`);
      if ((found.body['people'] as { id: string }[] | undefined)?.some((p) => p.id === who.userId)) return;
      if (Date.now() > deadline) throw new Error(`${who.name} never showed up in the people search`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function newPage(): Promise<Page> {
    return (await browser.newContext({ viewport: { width: 1000, height: 700 } })).newPage();
  }

  const connected = (page: Page) => page.getByTestId('connection-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });

  it(
    'creates a session by picking a person by name, opens its shared link for a member and tells a non-member, and offers only non-members to add',
    async () => {
      const tag = randomBytes(3).toString('hex');
      const [alice, bob, carol] = [await person(`Alice ${tag}`), await person(`Bobbie ${tag}`), await person(`Carol ${tag}`)];
      await seen(bob);

      // Alice creates a session from the lobby, picking Bob by a part of his name with the keyboard.
      const alicePage = await newPage();
      await alicePage.goto(`${webUrl}/?token=${alice.token}`);
      await alicePage.getByLabel('Title').fill('Liquidity stress test');
      const members = alicePage.getByRole('combobox', { name: 'Other members' });
      await members.fill(`bobbie ${tag}`);
      await alicePage.getByRole('option', { name: bob.name }).waitFor();
      await members.press('ArrowDown');
      await expect(members.getAttribute('aria-activedescendant')).resolves.toBeTruthy();
      await members.press('Enter');
      await alicePage.getByTestId('picked-person').filter({ hasText: bob.name }).waitFor();
      await expect(members.inputValue()).resolves.toBe('');
      await alicePage.getByRole('button', { name: 'Create and open' }).click();
      await connected(alicePage);
      const sessionId = new URL(alicePage.url()).searchParams.get('session');
      expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
      const session = await api(bob, `/api/chat/sessions/${sessionId}`);
      expect(session.status).toBe(200);
      expect([...(session.body['members'] as string[])].sort()).toEqual([alice.userId, bob.userId].sort());

      // The copied link names the session and no token.
      await alicePage.getByRole('button', { name: 'Copy link' }).click();
      const link = await alicePage.getByTestId('share-link').inputValue();
      const linked = new URL(link);
      expect([linked.origin, linked.pathname, linked.searchParams.get('session'), linked.searchParams.get('token')]).toEqual([webUrl, '/chat/', sessionId, null]);

      // Bob, a member, opens it (with the token his application gives the page) and is in the chat.
      const bobPage = await newPage();
      await bobPage.goto(`${link}&token=${bob.token}`);
      await connected(bobPage);
      await bobPage.getByRole('heading', { name: 'Liquidity stress test' }).waitFor();

      // Carol is not a member: she is told so, not shown an empty page.
      const carolPage = await newPage();
      await carolPage.goto(`${link}&token=${carol.token}`);
      await carolPage.getByTestId('no-access').filter({ hasText: 'You are not a member of this session' }).waitFor({ timeout: 10_000 });
      await expect(carolPage.getByTestId('connection-status').count()).resolves.toBe(0);

      // Alice picks Carol by name to add her; members already in are not offered.
      await seen(carol);
      await alicePage.getByRole('button', { name: 'Add people' }).click();
      const toAdd = alicePage.getByRole('combobox', { name: 'People to add' });
      await toAdd.fill(`carol ${tag}`);
      await alicePage.getByRole('option', { name: carol.name }).click();
      await alicePage.getByTestId('picked-person').filter({ hasText: carol.name }).waitFor();
      await toAdd.fill(`bobbie ${tag}`);
      await alicePage.getByText('No one else by that name.').waitFor();
      await expect(alicePage.getByRole('option').count()).resolves.toBe(0);
      await Promise.all([alicePage, bobPage, carolPage].map((page) => page.context().close()));
    },
    300_000,
  );
});
