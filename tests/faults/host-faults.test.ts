/**
 * The host scenario of the fault suite, in its short form as part of `pnpm test`: two gateways on
 * hosts of their own (network namespaces); host A loses Redis and NATS, then host B loses its
 * clients. The cut host's clients are closed with the contract's codes and resume on the other
 * host with nothing missed, and the cut host reports not ready.
 */
import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { SHORT_TIMINGS } from './fault-catalogue.ts';
import { runFaultSuite, type SuiteReport } from './fault-suite.ts';
import { HOST_FAULTS, HOST_SCENARIO_CLIENT_HEARTBEAT_MS, HOST_SCENARIO_ENV, openConnections } from './host-faults.ts';
import { hostNetworkFor, hostNetworkUnavailable } from './host-network.ts';
import { missingServerBinaries } from './infra-servers.ts';

const lacking = [...missingServerBinaries(), hostNetworkUnavailable()].filter((reason) => reason !== undefined);
if (lacking.length > 0) {
  const message = `The host scenario of the fault suite needs its server programs and network namespaces: ${lacking.join('; ')}`;
  if (process.env['CI']) throw new Error(message);
  console.warn(`\n*** SKIPPING the host scenario of the fault suite ***\n${message}\n`);
}
const describeIfHosts = lacking.length === 0 ? describe : describe.skip;

describe('openConnections', () => {
  it('sums chat_connections_open over its labels and nothing else', () => {
    const page = ['# TYPE chat_connections_open gauge', 'chat_connections_open{route="chat"} 3', 'chat_connections_open{route="status"} 2', 'chat_connections_opened_total{route="chat"} 40', ''].join('\n');
    expect(openConnections(page)).toBe(5);
    expect(openConnections('chat_connections_open 0\n')).toBe(0);
  });
});

describeIfHosts('the fault suite, host scenario, short form', () => {
  let report: SuiteReport;
  const names = ['none (baseline)', ...HOST_FAULTS.map((fault) => fault.name)];

  it(
    'cuts one host from the servers, then one from its clients, under traffic',
    async () => {
      const portBase = Number(process.env['FAULTS_HOSTS_TEST_PORT_BASE'] ?? 27000);
      report = await runFaultSuite({
        repoRoot: join(import.meta.dirname, '..', '..'),
        portBase,
        hosts: hostNetworkFor(portBase),
        env: HOST_SCENARIO_ENV,
        clientHeartbeatMs: HOST_SCENARIO_CLIENT_HEARTBEAT_MS,
        sessions: 6,
        membersPerSession: 6,
        sendsPerSec: 15,
        faults: HOST_FAULTS,
        timings: SHORT_TIMINGS,
        trafficBeforeMs: 1_000,
        trafficAfterMs: 1_000,
        log: () => undefined,
      });
      expect(report.results.map((result) => result.fault)).toEqual(names);
      for (const result of report.results) expect(result.tally.acked).toBeGreaterThan(0);
      // Each cut closed clients, and every one of them resumed.
      for (const result of report.results.slice(1)) {
        expect(result.clientsDropped).toBeGreaterThan(0);
        expect(result.clientsResumed).toBe(result.clientsDropped);
      }
    },
    10 * 60_000,
  );

  it.each(names)('%s: nothing acked is lost or doubled, no hole, and all recovered', (name) => {
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
