/**
 * What the short forms of the fault suite in `pnpm test` share: skipping loudly (failing in CI)
 * when the machine lacks what they need, the short settings, and the per-row checks.
 */
import { describe, expect } from '@jest/globals';
import { join } from 'node:path';
import { SHORT_TIMINGS } from './fault-catalogue.ts';
import type { SuiteOptions, SuiteReport } from './fault-suite.ts';

/** `describe` when nothing is lacking; otherwise a loud skip, or an error in CI (`CI` set). */
export function describeIfAble(what: string, lacking: readonly string[]): typeof describe | typeof describe.skip {
  if (lacking.length === 0) return describe;
  const message = `${what} needs: ${lacking.join('; ')}`;
  if (process.env['CI']) throw new Error(message);
  console.warn(`\n*** SKIPPING ${what} ***\n${message}\n`);
  return describe.skip;
}

/** 36 clients, 15 sends/s, the CI timings. */
export const SHORT_FORM: Omit<SuiteOptions, 'portBase' | 'faults'> = {
  repoRoot: join(import.meta.dirname, '..', '..'),
  sessions: 6,
  membersPerSession: 6,
  sendsPerSec: 15,
  timings: SHORT_TIMINGS,
  trafficBeforeMs: 1_000,
  trafficAfterMs: 1_000,
  log: () => undefined,
};

/** The row ran, and nothing acked was lost or doubled, no hole was left, and all recovered. */
export function expectRowClean(report: SuiteReport, name: string): void {
  const result = report.results.find((r) => r.fault === name);
  expect(result).toBeDefined();
  const t = result!.tally;
  expect({ lost: t.lost, doubled: t.doubled, holes: t.holes, viewHoles: t.viewHoles, viewDoubled: t.viewDoubled, strangers: t.strangers }).toEqual({
    lost: 0,
    doubled: 0,
    holes: 0,
    viewHoles: 0,
    viewDoubled: 0,
    strangers: 0,
  });
  expect(result!.failures).toEqual([]);
}
