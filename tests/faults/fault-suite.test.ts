/**
 * The fault suite's short form, as part of `pnpm test`: every single fault once, with shorter
 * outages and fewer clients than `pnpm faults`. Each fault must leave no acked message lost, none
 * doubled, no seq hole, and everything recovered by itself.
 */
import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { SHORT_TIMINGS, SINGLE_FAULTS } from './fault-catalogue.ts';
import { runFaultSuite, type SuiteReport } from './fault-suite.ts';
import { missingServerBinaries } from './infra-servers.ts';

const missing = missingServerBinaries();
if (missing.length > 0) {
  const message = `The fault suite starts its own servers and needs: ${missing.join(', ')} (apt-get install redis-server nats-server postgresql)`;
  if (process.env['CI']) throw new Error(message);
  console.warn(`\n*** SKIPPING the fault suite ***\n${message}\n`);
}
const describeIfServers = missing.length === 0 ? describe : describe.skip;

describeIfServers('the fault suite, short form', () => {
  let report: SuiteReport;

  it(
    'runs every single fault under traffic and checks the outcome from outside',
    async () => {
      report = await runFaultSuite({
        repoRoot: join(import.meta.dirname, '..', '..'),
        portBase: Number(process.env['FAULTS_TEST_PORT_BASE'] ?? 26500),
        sessions: 6,
        membersPerSession: 6,
        sendsPerSec: 15,
        faults: SINGLE_FAULTS,
        timings: SHORT_TIMINGS,
        trafficBeforeMs: 1_000,
        trafficAfterMs: 1_000,
        log: () => undefined,
      });
      expect(report.results.map((result) => result.fault)).toEqual(['none (baseline)', ...SINGLE_FAULTS.map((fault) => fault.name)]);
      // Traffic flowed through every fault, so the counts below say something.
      for (const result of report.results) expect(result.tally.acked).toBeGreaterThan(0);
    },
    15 * 60_000,
  );

  it.each(['none (baseline)', ...SINGLE_FAULTS.map((fault) => fault.name)])('%s: nothing acked is lost or doubled, no hole, and all recovered', (name) => {
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
  });
});
