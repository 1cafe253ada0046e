/**
 * `pnpm faults [--short] [--only <text>[,<text>...]] [--pairs] [--hosts] [--soak <minutes>] [--connections <n>] [--no-docs]`
 *
 * `--hosts` runs the host scenario instead: the gateways on hosts of their own (network
 * namespaces; needs root and iproute2), one host cut from the servers, then one from its clients.
 *
 * Starts its own Redis, NATS JetStream and PostgreSQL and our services on ports from
 * FAULTS_PORT_BASE (26000), drives traffic from the client SDK, injects each fault and checks the
 * outcome from outside. Writes the table (and the soak plot) into docs/reliability.md; exits 1 when
 * any fault lost, doubled or left a hole, or anything did not recover.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FULL_TIMINGS, faultPairs, SHORT_TIMINGS, SINGLE_FAULTS, type Fault } from './fault-catalogue.ts';
import { runFaultSuite } from './fault-suite.ts';
import { HOST_FAULTS, HOST_SCENARIO_CLIENT_HEARTBEAT_MS, HOST_SCENARIO_ENV } from './host-faults.ts';
import { hostNetworkFor, hostNetworkUnavailable } from './host-network.ts';
import { BEGIN, END, HOSTS_BEGIN, HOSTS_END, renderFaultTable, replaceSection } from './reliability-doc.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    only: { type: 'string' },
    pairs: { type: 'boolean', default: false },
    hosts: { type: 'boolean', default: false },
    soak: { type: 'string' },
    connections: { type: 'string' },
    'no-docs': { type: 'boolean', default: false },
  },
});

const log = (line: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const portBase = Number(process.env['FAULTS_PORT_BASE'] ?? 26000);

if (values.soak !== undefined) {
  const { runSoak } = await import('./soak.ts');
  const ok = await runSoak({ repoRoot, portBase, minutes: Number(values.soak), writeDocs: !values['no-docs'], log, ...(values.connections ? { connections: Number(values.connections) } : {}) });
  process.exit(ok ? 0 : 1);
}

const connections = Number(values.connections ?? (values.short ? 60 : 300));
const membersPerSession = 6;
const hostsUnavailable = values.hosts ? hostNetworkUnavailable() : undefined;
if (hostsUnavailable !== undefined) {
  process.stderr.write(`--hosts: ${hostsUnavailable}\n`);
  process.exit(2);
}
let faults: Fault[] = values.hosts ? [...HOST_FAULTS] : [...SINGLE_FAULTS, ...(values.pairs ? faultPairs() : [])];
if (values.only !== undefined) {
  const wanted = values.only.split(',').map((part) => part.trim());
  faults = faults.filter((fault) => wanted.some((part) => fault.name.includes(part)));
}
const report = await runFaultSuite({
  repoRoot,
  portBase,
  sessions: Math.max(1, Math.round(connections / membersPerSession)),
  membersPerSession,
  sendsPerSec: values.short ? 20 : Math.max(20, Math.round(connections / 4)),
  faults,
  timings: values.short ? SHORT_TIMINGS : FULL_TIMINGS,
  trafficBeforeMs: values.short ? 1_000 : 3_000,
  trafficAfterMs: values.short ? 1_000 : 3_000,
  log,
  ...(values.hosts ? { hosts: hostNetworkFor(portBase), env: HOST_SCENARIO_ENV, clientHeartbeatMs: HOST_SCENARIO_CLIENT_HEARTBEAT_MS } : {}),
});
const command = `pnpm faults ${process.argv.slice(2).join(' ')}`.trim();
const table = renderFaultTable(report, command);
mkdirSync(join(repoRoot, 'bench-results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench-results', `faults-${report.startedAt.replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2));
process.stdout.write(`\n${table}\n`);
if (!values['no-docs'] && !values.short) replaceSection(join(repoRoot, 'docs', 'reliability.md'), values.hosts ? HOSTS_BEGIN : BEGIN, values.hosts ? HOSTS_END : END, table);
process.exit(report.results.every((result) => result.passed) ? 0 : 1);
