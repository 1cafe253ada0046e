import type { LatencySummary } from './histogram.ts';
import type { ScenarioName } from './profile.ts';
import type { TargetName } from './scenarios/delivery-run.ts';
import type { GatewayStages } from './gateway-stages.ts';
import type { Durability } from './servers/own-infra.ts';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  kernel: string;
  openFilesLimit: number;
  /** 1-minute load average when the run started and ended: other work on the machine shows here. */
  loadAverage: { start: number; end: number };
}

export interface GatewayMemory {
  url: string;
  connections: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  rssPerConnectionBytes: number;
  /**
   * The same after the connections were held idle for the profile's holdMs more, when the collector
   * may have given back what the ramp's garbage made it commit (absent in older results).
   */
  rssHeldBytes?: number;
  rssPerConnectionHeldBytes?: number;
  openFilesLimit: number;
  /** The gateway's user + system CPU during the ramp over the connections it opened (absent in older results). */
  cpuMicrosPerConnect?: number;
}

export interface IdleResult {
  requested: number;
  opened: number;
  failed: number;
  durationMs: number;
  connectsPerSec: number;
  loadGenerators: number;
  gateways: GatewayMemory[];
  stopReason: string;
  failures: Record<string, number>;
}

export interface FanoutStep {
  sendsPerSec: number;
  /** 2 when the first try failed and the step was repeated; the repeat is what is reported. */
  attempts: number;
  sent: number;
  acked: number;
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  outOfOrder: number;
  deliveriesPerSec: number;
  latency: LatencySummary;
  ackLatency: LatencySummary;
  errors: Record<string, number>;
  serverCpuPercent: number[];
  /** The counts of the failed first try, when the step was repeated: its losses are still losses. */
  firstAttempt?: Pick<FanoutStep, 'sent' | 'acked' | 'expectedDeliveries' | 'delivered' | 'lost' | 'outOfOrder'>;
}

export interface FanoutSeries {
  system: TargetName;
  label: string;
  connected: number;
  /** Connections opened per second while seating the members (32 in flight per load generator). */
  connectsPerSec: number;
  steps: FanoutStep[];
  /** Highest delivered/s among steps with p99 under the limit and nothing lost. */
  bestDeliveriesPerSec: number;
  bestDeliveriesPerSecPerServer: number;
  stopReason: string;
}

export interface FanoutResult {
  sessions: number;
  membersPerSession: number;
  servers: number;
  p99LimitMs: number;
  /** Ours with the persister stopped, and running (as the system runs). */
  chat: FanoutSeries;
  chatPersisted: FanoutSeries;
  socketio: FanoutSeries;
  relay: FanoutSeries;
  /** Ours divided by Socket.IO's, measured in the same run: persister stopped, and running. */
  ratio: number;
  ratioPersisted: number;
}

/** One target at a steady rate on the run's own Redis, NATS and PostgreSQL, with the CPU of every process. */
export interface SteadyRun {
  target: TargetName;
  label: string;
  /** Ours only: the durability the run's JetStream and PostgreSQL had. */
  durability: Durability | null;
  step: FanoutStep;
  /** From the first send until the persister had written the last message (or the last delivery). */
  windowMs: number;
  /** Whether the persister caught up within its deadline; null without a persister. */
  persistedAll: boolean | null;
  /** CPU seconds in the window: gateways (or baseline nodes), persister, redis, nats, postgres (the cluster's process tree). */
  cpuSeconds: Record<string, number>;
  gatewayUsPerDelivery: number;
  /** CPU µs per acked message, per tier outside the gateways. */
  usPerMessage: Record<string, number>;
  /** persister + nats + postgres, µs per message; null for a baseline. */
  durableUsPerMessage: number | null;
  /** Ours only (null or absent for a baseline, and in results from before it was read): the gateways' own stage histograms over the window. */
  gatewayStages?: GatewayStages | null;
}

export interface SteadyResult {
  sessions: number;
  membersPerSession: number;
  servers: number;
  sendsPerSec: number;
  stepMs: number;
  /** Ours (persister running), Socket.IO and the relay, default durability. */
  runs: SteadyRun[];
  /** Ours again under each other durability setting. */
  durability: SteadyRun[];
}

export interface AckStep {
  sendsPerSec: number;
  attempts: number;
  sent: number;
  acked: number;
  ackedPerSec: number;
  latency: LatencySummary;
  errors: Record<string, number>;
  gatewayCpuPercent: number;
  /** The counts of the failed first try, when the step was repeated. */
  firstAttempt?: Pick<AckStep, 'sent' | 'acked'>;
}

export interface AckResult {
  connections: number;
  reference: AckStep;
  steps: AckStep[];
  sustainedAckedPerSec: number;
  stopReason: string;
}

export interface PersistResult {
  backlog: number;
  published: number;
  publishPerSec: number;
  rowsWritten: number;
  drainMs: number;
  rowsPerSec: number;
  /** Publish-to-row latency of messages sent after the drain. */
  lag: LatencySummary;
  liveMessages: number;
  /** Messages published after the drain; each should have become a row. */
  livePublished: number;
  persisterCpuPercent: number;
  stream: string;
}

export interface HistoryResult {
  rows: number;
  seedMs: number;
  pageSize: number;
  concurrency: number;
  requests: number;
  requestsPerSec: number;
  errors: Record<string, number>;
  latency: LatencySummary;
  /** session-api CPU (user + system, from /proc) per page served, in µs, over the read window. */
  apiUsPerPage: number;
  /** The load generator's CPU per page (its workers share the cores with the servers); absent in older results. */
  generatorUsPerPage?: number;
}

export interface ScenarioResults {
  idle?: IdleResult;
  fanout?: FanoutResult;
  ack?: AckResult;
  persist?: PersistResult;
  history?: HistoryResult;
  steady?: SteadyResult;
}

export interface TargetCheck {
  name: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

export interface BenchResult {
  schema: 'chat-bench/1';
  runId: string;
  profile: 'full' | 'smoke';
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  scenarios: ScenarioResults;
  failures: { scenario: ScenarioName; message: string }[];
  targets: TargetCheck[];
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function checkLatency(problems: string[], where: string, latency: LatencySummary | undefined, expectSamples: boolean): void {
  if (!latency) {
    problems.push(`${where}: missing latency`);
    return;
  }
  for (const key of ['count', 'p50', 'p95', 'p99', 'max', 'mean'] as const) {
    if (!isNumber(latency[key]) || latency[key] < 0) problems.push(`${where}.${key} is not a non-negative number`);
  }
  if (expectSamples && latency.count === 0) problems.push(`${where}: no samples`);
  if (latency.p50 > latency.p95 || latency.p95 > latency.p99 || latency.p99 > latency.max) problems.push(`${where}: percentiles out of order`);
}

/** Everything that makes a result incomplete or malformed; empty when the result is whole. */
export function findProblems(result: BenchResult, expected: readonly ScenarioName[]): string[] {
  const problems: string[] = [];
  if ((result.schema as string) !== 'chat-bench/1') problems.push('schema');
  for (const failure of result.failures) problems.push(`${failure.scenario} failed: ${failure.message}`);
  const s = result.scenarios;
  for (const name of expected) if (!s[name]) problems.push(`${name}: no result`);
  if (s.idle) {
    if (s.idle.opened <= 0) problems.push('idle: no connection opened');
    if (!isNumber(s.idle.connectsPerSec) || s.idle.connectsPerSec <= 0) problems.push('idle: connect rate');
    if (s.idle.gateways.length === 0) problems.push('idle: no gateway memory');
    for (const gateway of s.idle.gateways) if (!isNumber(gateway.rssPerConnectionBytes)) problems.push(`idle: rss per connection of ${gateway.url}`);
  }
  if (s.fanout) {
    for (const series of [s.fanout.chat, s.fanout.chatPersisted, s.fanout.socketio, s.fanout.relay]) {
      if (series.steps.length === 0) problems.push(`fanout ${series.system}: no step`);
      series.steps.forEach((step, i) => {
        const where = `fanout ${series.system} step ${i}`;
        checkLatency(problems, `${where} latency`, step.latency, true);
        checkLatency(problems, `${where} ack latency`, step.ackLatency, true);
        if (step.serverCpuPercent.length !== s.fanout?.servers) problems.push(`${where}: cpu per server`);
        if (!isNumber(step.deliveriesPerSec) || step.delivered <= 0) problems.push(`${where}: no delivery`);
      });
    }
    if (!isNumber(s.fanout.ratio)) problems.push('fanout: ratio');
  }
  if (s.ack) {
    checkLatency(problems, 'ack reference latency', s.ack.reference.latency, true);
    if (s.ack.steps.length === 0) problems.push('ack: no step');
    for (const step of s.ack.steps) checkLatency(problems, `ack step ${step.sendsPerSec}/s`, step.latency, true);
    if (!isNumber(s.ack.sustainedAckedPerSec)) problems.push('ack: sustained rate');
  }
  if (s.persist) {
    if (s.persist.rowsWritten < s.persist.backlog) problems.push(`persist: ${s.persist.rowsWritten} rows of ${s.persist.backlog}`);
    if (!isNumber(s.persist.rowsPerSec) || s.persist.rowsPerSec <= 0) problems.push('persist: rows per second');
    checkLatency(problems, 'persist lag', s.persist.lag, true);
  }
  if (s.steady) {
    for (const run of [...s.steady.runs, ...s.steady.durability]) {
      const where = `steady ${run.target}${run.durability ? ` R${run.durability.jetstreamReplicas}/${run.durability.synchronousCommit}` : ''}`;
      checkLatency(problems, `${where} latency`, run.step.latency, true);
      if (run.step.delivered <= 0) problems.push(`${where}: no delivery`);
      // A toy run may use less than one clock tick in a process: zero is a reading, a missing number is not.
      if (!isNumber(run.gatewayUsPerDelivery)) problems.push(`${where}: no gateway CPU sampled`);
      for (const tier of ['redis', 'nats', 'postgres']) if (!isNumber(run.usPerMessage[tier])) problems.push(`${where}: no ${tier} CPU sampled`);
      if (run.target === 'chat-persisted' && !isNumber(run.usPerMessage['persister'])) problems.push(`${where}: no persister CPU sampled`);
    }
    if (s.steady.runs.length !== 3) problems.push('steady: a target is missing');
  }
  if (s.history) {
    if (s.history.requests <= 0) problems.push('history: no request');
    if (!isNumber(s.history.apiUsPerPage) || s.history.apiUsPerPage < 0) problems.push('history: no session-api CPU sampled');
    checkLatency(problems, 'history latency', s.history.latency, true);
  }
  return problems;
}
