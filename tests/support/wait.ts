import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `check` every `everyMs` until it holds; past `timeoutMs` it throws, naming what was awaited. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Polls `find` every `everyMs` until it gives something, and returns that; past `timeoutMs` it throws. */
export async function eventually<T>(what: string, find: () => T | undefined, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  let found: T | undefined;
  await waitFor(what, () => (found = find()) !== undefined, timeoutMs, everyMs);
  return found as T;
}
