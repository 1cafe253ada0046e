import { performance } from 'node:perf_hooks';

/** Starts a clock; the returned function gives the seconds elapsed since, for histograms. */
export function stopwatch(): () => number {
  const start = performance.now();
  return () => (performance.now() - start) / 1000;
}

/** Seconds since an ISO-8601 timestamp (a message's), never negative despite clock skew. */
export function secondsSince(isoTimestamp: string, now: number = Date.now()): number {
  const then = Date.parse(isoTimestamp);
  if (Number.isNaN(then)) return 0;
  return Math.max(0, (now - then) / 1000);
}
