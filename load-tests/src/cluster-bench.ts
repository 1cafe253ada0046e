import { OwnNatsCluster } from '../../tests/support/own-nats-cluster.ts';
import { OwnRedisCluster } from '../../tests/support/own-redis-cluster.ts';
import type { Profile, ScenarioName } from './profile.ts';
import type { BenchResult } from './result.ts';
import { runBench, type RunOutput } from './run-bench.ts';
import type { InfraUrls } from './servers/chat-system.ts';

/** Scenarios that run against the clusters; fanout's Socket.IO reference needs a single Redis. */
export const CLUSTER_SCENARIOS: readonly ScenarioName[] = ['idle', 'ack', 'persist', 'history'];

export interface ClusterComparisonOptions {
  profile: Profile;
  scenarios: readonly ScenarioName[];
  repoRoot: string;
  outDir: string;
  /** The single servers: the machine's shared Redis, NATS and PostgreSQL. */
  single: InfraUrls;
  /** Redis Cluster on firstPort..+5 (3 masters, 3 replicas), NATS on firstPort+10..+32. */
  firstPort: number;
  command: string;
  log: (line: string) => void;
}

export interface ClusterComparison {
  single: RunOutput;
  clustered: RunOutput;
  markdown: string;
}

/**
 * The same scenarios twice in one invocation, against single servers and then against a Redis
 * Cluster (3 + 3) and a three-node NATS cluster (stream at R3) of its own, so that both see the
 * same machine load.
 */
export async function runClusterComparison(options: ClusterComparisonOptions): Promise<ClusterComparison> {
  const refused = options.scenarios.filter((name) => !CLUSTER_SCENARIOS.includes(name));
  if (refused.length > 0) throw new Error(`--cluster runs ${CLUSTER_SCENARIOS.join(', ')}; not ${refused.join(', ')}`);
  const run = (infra: InfraUrls) => runBench({ profile: options.profile, scenarios: options.scenarios, repoRoot: options.repoRoot, outDir: options.outDir, infra, command: options.command, log: options.log });
  options.log('single servers');
  const single = await run(options.single);
  const redis = new OwnRedisCluster(options.firstPort, { replicas: 1 });
  const nats = new OwnNatsCluster(options.firstPort + 10);
  try {
    options.log(`starting Redis Cluster on ${redis.ports.join(', ')} and NATS cluster on ${nats.nodes.map((node) => node.port).join(', ')}`);
    await redis.start();
    await nats.start();
    options.log('clusters');
    const clustered = await run({ ...options.single, redisUrl: redis.url, natsUrl: nats.url, clustered: true });
    return { single, clustered, markdown: renderComparison(single.result, clustered.result, options.command) };
  } finally {
    await Promise.allSettled([redis.stop(), nats.stop()]);
  }
}

const figure = (value: number | undefined, unit = '') => (value === undefined ? '—' : `${Math.round(value).toLocaleString('en')}${unit}`);
const ms = (value: number | undefined) => (value === undefined ? '—' : `${value.toFixed(1)} ms`);

/** Rows of the figures each scenario gives, single beside clustered. */
export function renderComparison(single: BenchResult, clustered: BenchResult, command: string): string {
  const rows: [string, (r: BenchResult) => string][] = [
    ['idle: connections held', (r) => figure(r.scenarios.idle?.opened)],
    ['ack: sustained acked sends/s (p99 ≤ limit)', (r) => figure(r.scenarios.ack?.sustainedAckedPerSec)],
    ['ack: p50 / p99 at the reference rate', (r) => (r.scenarios.ack ? `${ms(r.scenarios.ack.reference.latency.p50)} / ${ms(r.scenarios.ack.reference.latency.p99)}` : '—')],
    ['persist: backlog published per s', (r) => figure(r.scenarios.persist?.publishPerSec)],
    ['persist: rows written per s (one persister)', (r) => figure(r.scenarios.persist?.rowsPerSec)],
    ['persist: publish-to-row p99, live', (r) => ms(r.scenarios.persist?.lag.p99)],
    ['history: pages per s', (r) => figure(r.scenarios.history?.requestsPerSec)],
    ['history: p99 per page', (r) => ms(r.scenarios.history?.latency.p99)],
  ];
  const used = rows.filter(([, read]) => read(single) !== '—' || read(clustered) !== '—');
  return [
    `\`${command}\` (profile ${single.profile}), ${single.startedAt} to ${clustered.finishedAt}; load average ${single.machine.loadAverage.start} at the start, ${clustered.machine.loadAverage.end} at the end, on ${single.machine.cpus} cores.`,
    '',
    '| figure | single Redis, single NATS (R1) | Redis Cluster 3+3, NATS ×3 (R3) |',
    '|---|---|---|',
    ...used.map(([name, read]) => `| ${name} | ${read(single)} | ${read(clustered)} |`),
    '',
  ].join('\n');
}
