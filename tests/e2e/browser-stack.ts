import { rm } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { startStack, type Stack } from './stack.ts';
import { buildWeb, WebServer } from './web-server.ts';

/** The built UI on its own origin, the services told that origin, and Chromium. */
export interface BrowserStack {
  stack: Stack;
  webUrl: string;
  browser: Browser;
  /** Stops whatever started, also after a start that failed part way. */
  stop: () => Promise<void>;
}

export async function startBrowserStack(): Promise<BrowserStack> {
  const steps: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of steps.splice(0).reverse()) await Promise.resolve().then(step).catch(() => undefined);
  };
  try {
    const webRoot = await buildWeb();
    steps.push(() => rm(webRoot, { recursive: true, force: true }));
    const services: { stack?: Stack } = {};
    const started = (): Stack => {
      if (!services.stack) throw new Error('the services have not started yet');
      return services.stack;
    };
    // The page's port stays bound from here on: the services are told its origin before they start.
    // The page may pick either gateway with ?ws=, because its own origin lists both.
    const web = new WebServer(webRoot, () => started().api.port, () => ({ apiUrls: [], wsUrls: started().gateways.map((g) => `ws://127.0.0.1:${g.port}`), frameAncestors: ["'self'"] }));
    const webUrl = await web.listen(0);
    steps.push(() => web.close());
    const stack = await startStack(webUrl);
    services.stack = stack;
    steps.push(() => stack.stop());
    const browser = await launchChromium();
    steps.push(() => browser.close());
    return { stack, webUrl, browser, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
