import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FaultFindings, type Fault, type FaultTimings } from './fault-catalogue.ts';
import { FaultStack } from './fault-stack.ts';
import type { MemberState } from './fleet.ts';
import { WorkerFleet } from './fleet-workers.ts';
import type { HostNetwork } from './host-network.ts';
import { sleep } from './managed-process.ts';
import { OutcomeCheck, type Tally } from './outcome-check.ts';
import { ReadinessWatch } from './readiness-watch.ts';

export interface SuiteOptions {
  repoRoot: string;
  portBase: number;
  sessions: number;
  membersPerSession: number;
  /** Sends per second over all clients while traffic runs. */
  sendsPerSec: number;
  faults: readonly Fault[];
  timings: FaultTimings;
  /** Traffic before a fault is injected, and after everything recovered. */
  trafficBeforeMs: number;
  trafficAfterMs: number;
  log: (line: string) => void;
  /** Runs the gateways on hosts of their own (network namespaces). */
  hosts?: HostNetwork;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** The clients' heartbeat interval (the SDK's default when omitted). */
  clientHeartbeatMs?: number;
  /** Clients per client process (CLIENTS_PER_WORKER when omitted). */
  clientsPerWorker?: number;
}

export interface FaultResult {
  fault: string;
  description: string;
  passed: boolean;
  failures: string[];
  /** From injection until the fault was lifted (the part restarted, resumed or reconnected). */
  faultMs: number;
  /** From the fault being lifted until every service was ready and every client open again. */
  recoveryMs: number | null;
  tally: Tally;
  expectedUnready: readonly string[];
  sawUnready: string[];
  /** Clients whose socket dropped during the fault, and how many of those resumed by themselves. */
  clientsDropped: number;
  clientsResumed: number;
  /** For a fault that drains gateways: drain closes the clients received, their connection attempts after them, and the most attempts one client made per drain close. */
  drainReconnects?: { clients: number; drainCloses: number; attempts: number; maxPerDrain: number };
  /** The longest the suite's own event loop (faults and checks) was held up during the row, in ms. */
  suiteLagMaxMs?: number;
  /** The longest any client process's event loop was held up during the row, in ms. */
  clientLagMaxMs?: number;
  /** The machine's 1-minute load average at the end of the row. */
  load1m?: number;
}

export interface SuiteReport {
  startedAt: string;
  connections: number;
  sessions: number;
  sendsPerSec: number;
  timings: FaultTimings;
  /** How many processes the clients ran in. */
  clientProcesses: number;
  /** The machine's 1-, 5- and 15-minute load averages when the run began and when it ended. */
  loadAverage: { start: number[]; end?: number[] };
  results: FaultResult[];
}

const RECOVERY_TIMEOUT_MS = 120_000;
/** Clients per client process: few enough that a process keeps up with its clients' heartbeats on a loaded machine. */
const CLIENTS_PER_WORKER = 100;
const SETTLE_TIMEOUT_MS = 60_000;
const PERSIST_TIMEOUT_MS = 120_000;
const VIEW_TIMEOUT_MS = 30_000;
/** Metrics that count the whole store or every view; a fault is charged with what it added. */
const CUMULATIVE = ['holes', 'strangers', 'viewHoles', 'viewDoubled', 'viewMismatched'] as const;

/** Starts the stack and the clients, runs a baseline and then each fault in turn, and checks after each. */
export async function runFaultSuite(options: SuiteOptions): Promise<SuiteReport> {
  const { log } = options;
  const stack = new FaultStack({
    repoRoot: options.repoRoot,
    portBase: options.portBase,
    env: { DRAIN_RECONNECT_WINDOW_MS: String(options.timings.drainWindowMs), ...options.env },
    ...(options.hosts ? { hosts: options.hosts } : {}),
  });
  log(`stack in ${stack.dir}`);
  const report: SuiteReport = {
    startedAt: new Date().toISOString(),
    connections: options.sessions * options.membersPerSession,
    sessions: options.sessions,
    sendsPerSec: options.sendsPerSec,
    timings: options.timings,
    clientProcesses: 0,
    loadAverage: { start: loadavg() },
    results: [],
  };
  let fleet: WorkerFleet | undefined;
  let watch: ReadinessWatch | undefined;
  const check = new OutcomeCheck(stack.postgres.url);
  try {
    await stack.start();
    log('stack ready');
    fleet = await WorkerFleet.open({
      clientsPerWorker: options.clientsPerWorker ?? CLIENTS_PER_WORKER,
      apiUrl: stack.api.url,
      gatewayUrls: stack.gateways.map((gateway) => gateway.wsUrl),
      secret: stack.secret,
      sessions: options.sessions,
      membersPerSession: options.membersPerSession,
      ...(options.clientHeartbeatMs === undefined ? {} : { heartbeatMs: options.clientHeartbeatMs }),
    });
    report.clientProcesses = fleet.processIds.length;
    log(`${fleet.members.length} clients connected, in processes ${fleet.processIds.join(', ')}`);
    watch = new ReadinessWatch(new Map(stack.services.map((service) => [service.name, service.url])));
    watch.start();
    let previous: Tally | undefined;
    const phases: (Fault | undefined)[] = [undefined, ...options.faults];
    // Figures that tell a loaded machine from a real failure: how late this process and the clients' ran.
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    for (const [phase, fault] of phases.entries()) {
      lag.reset();
      await fleet.loopDelayMaxMs(true);
      const result = await runPhase(phase, fault, { stack, fleet, watch, check, options, previous });
      result.suiteLagMaxMs = Math.round(lag.max / 1e6);
      result.clientLagMaxMs = await fleet.loopDelayMaxMs(true);
      result.load1m = Math.round((loadavg()[0] ?? 0) * 10) / 10;
      const cumulative = { ...result.tally };
      for (const key of CUMULATIVE) result.tally[key] = cumulative[key] - (previous?.[key] ?? 0);
      previous = cumulative;
      report.results.push(result);
      log(`${result.passed ? 'PASS' : 'FAIL'} ${result.fault}: recovery ${result.recoveryMs ?? '-'} ms, event loops delayed up to ${result.suiteLagMaxMs} ms (suite) / ${result.clientLagMaxMs} ms (clients) at load ${result.load1m}, acked ${result.tally.acked}, lost ${result.tally.lost}, doubled ${result.tally.doubled}${result.failures.length > 0 ? ` — ${result.failures.join('; ')}` : ''}`);
    }
    report.loadAverage.end = loadavg();
  } finally {
    fleet?.close();
    await watch?.stop();
    await check.close().catch(() => undefined);
    await stack.stop();
  }
  return report;
}

interface PhaseContext {
  stack: FaultStack;
  fleet: WorkerFleet;
  watch: ReadinessWatch;
  check: OutcomeCheck;
  options: SuiteOptions;
  previous: Tally | undefined;
}

async function runPhase(phase: number, fault: Fault | undefined, context: PhaseContext): Promise<FaultResult> {
  const { fleet, watch, check, options, stack } = context;
  const failures: string[] = [];
  const phaseStartedAt = performance.now();
  const disconnectsBefore = fleet.members.map((member) => member.disconnects);
  const drainsBefore = fleet.members.map((member) => ({ drainCloses: member.drainCloses, reconnects: member.reconnects, otherCloses: { ...member.otherCloses }, socketEnds: { ...member.socketEnds } }));
  await fleet.startTraffic(phase, options.sendsPerSec);
  await sleep(options.trafficBeforeMs);
  const injectedAt = performance.now();
  if (fault) {
    options.log(`inject: ${fault.name}`);
    try {
      await fault.inject(stack, options.timings, fleet);
    } catch (error) {
      if (error instanceof FaultFindings) failures.push(...error.problems);
      else failures.push(`injection failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const liftedAt = performance.now();
  let recoveredAt: number | null = null;
  while (performance.now() - liftedAt < RECOVERY_TIMEOUT_MS) {
    if (watch.allReady(liftedAt) && fleet.allOpen()) {
      recoveredAt = performance.now();
      break;
    }
    await sleep(100);
  }
  if (recoveredAt === null) failures.push(`not recovered within ${RECOVERY_TIMEOUT_MS} ms`);
  await sleep(options.trafficAfterMs);
  await fleet.stopTraffic();
  await fleet.settle(SETTLE_TIMEOUT_MS, phase);
  await fleet.checkpoint(phase);
  await fleet.settle(SETTLE_TIMEOUT_MS, phase);
  const unsettled = await fleet.unsettledIn(phase);
  if (unsettled > 0) failures.push(`${unsettled} sends still unacknowledged ${SETTLE_TIMEOUT_MS} ms after the traffic stopped (${(await fleet.pendingReasons(phase)).join(', ')})`);
  await fleet.collectSends(phase);
  if (!(await check.waitPersisted(fleet.sends.values(), fleet.sessionIds, PERSIST_TIMEOUT_MS))) failures.push(`acked messages not all in PostgreSQL within ${PERSIST_TIMEOUT_MS} ms`);
  if (!(await check.waitViews(fleet.views, fleet.sessionIds, VIEW_TIMEOUT_MS))) failures.push(`client views not at the head within ${VIEW_TIMEOUT_MS} ms`);
  // Acks that came in meanwhile, as the records in the clients' processes hold them now.
  await fleet.collectSends(phase);
  const tally = await check.tally(phase, fleet.sends, fleet.views, fleet.sessionIds);
  const expectedUnready = fault?.touches ?? [];
  const sawUnready = watch.unreadyWithin(injectedAt, recoveredAt ?? performance.now());
  const missedUnready = expectedUnready.filter((name) => !sawUnready.includes(name));
  if (missedUnready.length > 0) failures.push(`readiness never went false: ${missedUnready.join(', ')}`);
  if (!fault && sawUnready.length > 0) failures.push(`not ready without a fault: ${watch.unreadyReasons(injectedAt, recoveredAt ?? performance.now()).join(', ')}`);
  const crashes = stack.services.flatMap((service) => service.crashes.filter((crash) => crash.at >= phaseStartedAt).map((crash) => `${service.name} (${crash.how})`));
  if (crashes.length > 0) failures.push(`exited by itself and was restarted: ${crashes.join(', ')}`);
  const dropped = fleet.members.filter((member, i) => member.disconnects > (disconnectsBefore[i] ?? 0));
  const finals = fleet.members.filter((member) => member.finalClose !== undefined);
  if (finals.length > 0) failures.push(`${finals.length} clients closed for good (codes ${[...new Set(finals.map((m) => m.finalClose))].join(', ')})`);
  const drainReconnects = fault?.drains ? countDrainReconnects(fleet.members, drainsBefore, failures) : undefined;
  const previous = context.previous;
  const added = (key: (typeof CUMULATIVE)[number]) => tally[key] - (previous?.[key] ?? 0);
  if (tally.lost > 0) failures.push(`${tally.lost} acked messages lost`);
  if (tally.doubled > 0) failures.push(`${tally.doubled} messages stored twice`);
  if (tally.unacked > 0) failures.push(`${tally.unacked} sends never acked`);
  if (added('holes') > 0) failures.push(`${added('holes')} seq holes in PostgreSQL`);
  if (added('strangers') > 0) failures.push(`${added('strangers')} stored messages nobody sent`);
  if (added('viewHoles') > 0) failures.push(`${added('viewHoles')} seqs missing from client views`);
  if (added('viewDoubled') > 0) failures.push(`${added('viewDoubled')} messages twice in a client view`);
  if (added('viewMismatched') > 0) failures.push(`${added('viewMismatched')} view messages differ from the store`);
  return {
    fault: fault?.name ?? 'none (baseline)',
    description: fault?.description ?? 'steady traffic, no fault: the checks themselves',
    passed: failures.length === 0,
    failures,
    faultMs: Math.round(liftedAt - injectedAt),
    recoveryMs: recoveredAt === null ? null : Math.round(recoveredAt - liftedAt),
    tally,
    expectedUnready,
    sawUnready,
    clientsDropped: dropped.length,
    clientsResumed: dropped.filter((member) => member.isOpen).length,
    ...(drainReconnects ? { drainReconnects } : {}),
  };
}

/**
 * A drain tells each client when to come back, and the SDK moves to the other replica then: so
 * every client closed by a drain makes exactly one connection attempt per drain close, and every
 * client was closed by one (a rolling restart drains every gateway).
 */
export function countDrainReconnects(
  members: readonly (Pick<MemberState, 'drainCloses' | 'reconnects'> & { otherCloses?: Record<number, number>; socketEnds?: Record<string, number> })[],
  before: readonly { drainCloses: number; reconnects: number; otherCloses?: Record<number, number>; socketEnds?: Record<string, number> }[],
  failures: string[],
): NonNullable<FaultResult['drainReconnects']> {
  let drainCloses = 0;
  let attempts = 0;
  let maxPerDrain = 0;
  let untouched = 0;
  let extra = 0;
  const others = new Map<number, number>();
  /** How the sockets of the clients that needed more than one attempt ended. */
  const ends = new Map<string, number>();
  members.forEach((member, i) => {
    for (const [code, count] of Object.entries(member.otherCloses ?? {})) {
      const since = count - (before[i]?.otherCloses?.[Number(code)] ?? 0);
      if (since > 0) others.set(Number(code), (others.get(Number(code)) ?? 0) + since);
    }
    const closes = member.drainCloses - (before[i]?.drainCloses ?? 0);
    const tries = member.reconnects - (before[i]?.reconnects ?? 0);
    drainCloses += closes;
    attempts += tries;
    if (closes === 0) untouched++;
    else maxPerDrain = Math.max(maxPerDrain, tries / closes);
    if (tries !== closes) {
      extra++;
      for (const [end, count] of Object.entries(member.socketEnds ?? {})) {
        const since = count - (before[i]?.socketEnds?.[end] ?? 0);
        if (since > 0) ends.set(end, (ends.get(end) ?? 0) + since);
      }
    }
  });
  if (untouched > 0) failures.push(`${untouched} clients were never closed by a drain`);
  // The other closes say why: a refusal (1013), a connection lost or never made (1006), a heartbeat timeout (4000).
  const why = [...others].sort(([a], [b]) => a - b).map(([code, count]) => `${code} ×${count}`).join(', ');
  const how = [...ends].sort(([, a], [, b]) => b - a).map(([end, count]) => `${end} ×${count}`).join(', ');
  if (extra > 0) failures.push(`${extra} clients did not reconnect exactly once per drain close (${attempts} attempts for ${drainCloses} drain closes${why === '' ? '' : `; other closes: ${why}`}${how === '' ? '' : `; their sockets ended: ${how}`})`);
  return { clients: members.length, drainCloses, attempts, maxPerDrain: Math.round(maxPerDrain * 100) / 100 };
}
