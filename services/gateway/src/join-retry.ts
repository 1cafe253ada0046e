/**
 * How long the reads of a join may keep being retried: until this instant (ms since the epoch),
 * and not once the socket is gone. Past it a step that fails refuses the join with 1013, as before.
 */
export interface JoinRetryBudget {
  readonly until: number;
  readonly abandoned?: () => boolean;
}

/** The share of the welcome budget spent on retries: the rest is left for a last try and the close. */
const RETRY_SHARE_OF_WELCOME = 0.5;

export function joinRetryBudget(welcomeMs: number, abandoned?: () => boolean, now = Date.now()): JoinRetryBudget {
  return { until: now + welcomeMs * RETRY_SHARE_OF_WELCOME, ...(abandoned === undefined ? {} : { abandoned }) };
}

/** Waits before the nth retry: short first, as a command that timed out is usually answered again at once. */
export function retryDelayMs(retry: number): number {
  return Math.min(100 * 2 ** retry, 800);
}

/**
 * Runs a step of the join path (a read, or an idempotent subscribe) again when it fails, while
 * the budget lasts: one Redis command timing out while a dependency is slow for a moment then
 * costs the client a short wait, not a refusal and a reconnect. A step that still fails is
 * thrown as before, so nothing is admitted on state that could not be read.
 */
export async function retryWithin<T>(step: () => Promise<T>, budget: JoinRetryBudget, onRetry?: (error: unknown) => void): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await step();
    } catch (error) {
      const delay = retryDelayMs(retry);
      if (Date.now() + delay >= budget.until || budget.abandoned?.() === true) throw error;
      onRetry?.(error);
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (budget.abandoned?.() === true) throw error;
    }
  }
}
