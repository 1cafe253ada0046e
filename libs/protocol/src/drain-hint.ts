/**
 * A gateway that drains closes each socket with 1001 and a reason that says when to come back:
 * `server restarting; reconnect-in=<ms>`. Each socket gets its own delay, spread over the drain
 * window, so a restart does not send every client back at once. Clients read the number with
 * `drainHintOf`; a reason without it means "come back with the usual backoff".
 */
export const DRAIN_REASON = 'server restarting';

/** A hint longer than this is taken as this: a faulty server must not park its clients for hours. */
export const MAX_DRAIN_HINT_MS = 300_000;

const HINT = /(?:^|;)\s*reconnect-in=(\d{1,9})\s*(?:;|$)/;

export function drainCloseReason(delayMs: number): string {
  return `${DRAIN_REASON}; reconnect-in=${Math.max(0, Math.round(delayMs))}`;
}

/** The delay a 1001 close reason asks for, in milliseconds (capped), or undefined when it names none. */
export function drainHintOf(reason: string): number | undefined {
  const match = HINT.exec(reason);
  if (!match?.[1]) return undefined;
  return Math.min(MAX_DRAIN_HINT_MS, Number(match[1]));
}

/**
 * Delays for `count` sockets spread evenly over `windowMs`, in random order: socket i of a drain
 * waits delays[i]. Even steps (not independent draws) keep the reconnect rate flat over the window.
 */
export function spreadDrainDelays(count: number, windowMs: number, random: () => number = Math.random): number[] {
  const delays = Array.from({ length: count }, (_, i) => (count <= 1 ? 0 : Math.round((windowMs * i) / count)));
  for (let i = delays.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [delays[i], delays[j]] = [delays[j] as number, delays[i] as number];
  }
  return delays;
}
