/**
 * The host scenario of the fault suite, in its short form as part of `pnpm test`: two gateways on
 * hosts of their own (network namespaces); host A loses Redis and NATS, then host B loses its
 * clients. The cut host's clients are closed with the contract's codes and resume on the other
 * host with nothing missed, and the cut host reports not ready.
 */
import { describe, expect, it } from '@jest/globals';
import { runFaultSuite, type SuiteReport } from './fault-suite.ts';
import type { MemberState } from './fleet.ts';
import { CloseLog, HOST_FAULTS, HOST_SCENARIO_CLIENT_HEARTBEAT_MS, HOST_SCENARIO_ENV, openConnections } from './host-faults.ts';
import { hostNetworkFor, hostNetworkUnavailable } from './host-network.ts';
import { missingServerBinaries } from './infra-servers.ts';
import { describeIfAble, expectRowClean, SHORT_FORM } from './short-form.ts';

const lacking = [...missingServerBinaries(), hostNetworkUnavailable()].filter((reason) => reason !== undefined);
const describeIfHosts = describeIfAble('the host scenario of the fault suite', lacking.length === 0 ? [] : [`its server programs and network namespaces: ${lacking.join('; ')}`]);

describe('openConnections', () => {
  it('sums chat_connections_open over its labels and nothing else', () => {
    const page = ['# TYPE chat_connections_open gauge', 'chat_connections_open{route="chat"} 3', 'chat_connections_open{route="status"} 2', 'chat_connections_opened_total{route="chat"} 40', ''].join('\n');
    expect(openConnections(page)).toBe(5);
    expect(openConnections('chat_connections_open 0\n')).toBe(0);
  });
});

describe('CloseLog', () => {
  const member = (drainCloses: number, otherCloses: Record<number, number>): MemberState => ({
    userId: 'u',
    sessionId: 's',
    gateway: 0,
    welcomeHead: 0,
    disconnects: 0,
    drainCloses,
    reconnects: 0,
    otherCloses,
    socketEnds: {},
    finalClose: undefined,
    isOpen: true,
  });

  it('counts the clients closed since it began and their codes, from counters that move in place', () => {
    const members = [member(2, { 1006: 1 }), member(0, {}), member(1, {})];
    const log = new CloseLog(members);
    expect(log.closedClients).toBe(0);
    expect(log.codes()).toEqual([]);
    Object.assign(members[0]!, { otherCloses: { 1006: 2, 1013: 1 } });
    Object.assign(members[1]!, { drainCloses: 1 });
    expect(log.closedClients).toBe(2);
    expect(log.codes().sort()).toEqual([1001, 1006, 1013]);
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
        ...SHORT_FORM,
        portBase,
        hosts: hostNetworkFor(portBase),
        env: HOST_SCENARIO_ENV,
        clientHeartbeatMs: HOST_SCENARIO_CLIENT_HEARTBEAT_MS,
        faults: HOST_FAULTS,
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

  it.each(names)('%s: nothing acked is lost or doubled, no hole, and all recovered', (name) => expectRowClean(report, name));
});
