/**
 * The fault suite's short form, as part of `pnpm test`: every single fault once, with shorter
 * outages and fewer clients than `pnpm faults`. Each fault must leave no acked message lost, none
 * doubled, no seq hole, and everything recovered by itself.
 */
import { expect, it } from '@jest/globals';
import { SINGLE_FAULTS } from './fault-catalogue.ts';
import { runFaultSuite, type SuiteReport } from './fault-suite.ts';
import { missingServerBinaries } from './infra-servers.ts';
import { describeIfAble, expectRowClean, SHORT_FORM } from './short-form.ts';

const missing = missingServerBinaries();
const describeIfServers = describeIfAble('the fault suite', missing.length === 0 ? [] : [`its own servers: ${missing.join(', ')} (apt-get install redis-server nats-server postgresql)`]);

describeIfServers('the fault suite, short form', () => {
  let report: SuiteReport;
  const names = ['none (baseline)', ...SINGLE_FAULTS.map((fault) => fault.name)];

  it(
    'runs every single fault under traffic and checks the outcome from outside',
    async () => {
      report = await runFaultSuite({ ...SHORT_FORM, portBase: Number(process.env['FAULTS_TEST_PORT_BASE'] ?? 26500), faults: SINGLE_FAULTS });
      expect(report.results.map((result) => result.fault)).toEqual(names);
      // Traffic flowed through every fault, so the counts below say something.
      for (const result of report.results) expect(result.tally.acked).toBeGreaterThan(0);
    },
    15 * 60_000,
  );

  it.each(names)('%s: nothing acked is lost or doubled, no hole, and all recovered', (name) => expectRowClean(report, name));
});
