import type { LatencySummary } from '../histogram.ts';
import type { BenchResult, FanoutSeries } from '../result.ts';
import type { SteadyRun } from '../result.ts';
import { TARGET_LABELS, type TargetName } from '../scenarios/delivery-run.ts';
import { evaluateTargets } from '../targets.ts';

export const latency = (p99: number): LatencySummary => ({ count: 100, p50: p99 / 4, p95: p99 / 2, p99, max: p99 * 2, mean: p99 / 3 });

function series(system: TargetName, perStep: number, p99s: number[]): FanoutSeries {
  const steps = p99s.map((p99, i) => ({
    sendsPerSec: 100 * (i + 1),
    attempts: 1,
    sent: 500 * (i + 1),
    acked: 500 * (i + 1),
    expectedDeliveries: 20_000 * (i + 1),
    delivered: 20_000 * (i + 1),
    lost: 0,
    outOfOrder: 0,
    deliveriesPerSec: perStep * (i + 1),
    latency: latency(p99),
    ackLatency: latency(p99 / 2),
    errors: {},
    serverCpuPercent: [50, 60],
  }));
  const best = Math.max(...steps.filter((s) => s.latency.p99 <= 100).map((s) => s.deliveriesPerSec));
  return { system, label: TARGET_LABELS[system], connected: 2000, connectsPerSec: 500, steps, bestDeliveriesPerSec: best, bestDeliveriesPerSecPerServer: best / 2, stopReason: 'p99 passed' };
}

function steadyRun(target: TargetName, p99: number, gatewayUsPerDelivery: number, usPerMessage: Record<string, number>): SteadyRun {
  const [first] = series(target, 10_000, [p99]).steps;
  if (!first) throw new Error('a series of one step has a step');
  const step = { ...first, serverCpuPercent: [] };
  const durable = target === 'chat-persisted' ? (usPerMessage['persister'] ?? 0) + (usPerMessage['nats'] ?? 0) + (usPerMessage['postgres'] ?? 0) : null;
  return {
    target,
    label: TARGET_LABELS[target],
    durability: target === 'chat-persisted' ? { jetstreamReplicas: 1, synchronousCommit: 'on' } : null,
    step,
    windowMs: 12_000,
    persistedAll: target === 'chat-persisted' ? true : null,
    cpuSeconds: { gateways: 4 },
    gatewayUsPerDelivery,
    usPerMessage,
    durableUsPerMessage: durable,
  };
}

/** A whole result of a full run in which nothing was lost. */
export function benchResultFixture(): BenchResult {
  const chat = series('chat', 30_000, [5, 20, 150]);
  const chatPersisted = series('chat-persisted', 20_000, [6, 30, 170]);
  const socketio = series('socketio', 10_000, [10, 160]);
  const relay = series('relay', 40_000, [3, 8, 120]);
  const result: BenchResult = {
    schema: 'chat-bench/1',
    runId: 'r1',
    profile: 'full',
    command: 'pnpm bench',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:10:00.000Z',
    machine: { cpus: 2, cpuModel: 'cpu', memoryBytes: 2 ** 34, node: 'v24', kernel: '6', openFilesLimit: 20_000, loadAverage: { start: 0.5, end: 1.5 } },
    scenarios: {
      idle: { requested: 50_000, opened: 50_000, failed: 0, durationMs: 20_000, connectsPerSec: 2500, loadGenerators: 3, gateways: [{ url: 'http://127.0.0.1:1', connections: 16_667, rssBeforeBytes: 80e6, rssAfterBytes: 180e6, rssPerConnectionBytes: 6000, openFilesLimit: 20_000 }], stopReason: 'reached', failures: {} },
      fanout: { sessions: 50, membersPerSession: 40, servers: 2, p99LimitMs: 100, chat, chatPersisted, socketio, relay, ratio: 6, ratioPersisted: 4 },
      ack: { connections: 200, reference: { sendsPerSec: 1000, attempts: 1, sent: 5000, acked: 5000, ackedPerSec: 1000, latency: latency(4), errors: {}, gatewayCpuPercent: 20 }, steps: [{ sendsPerSec: 1000, attempts: 1, sent: 5000, acked: 5000, ackedPerSec: 1000, latency: latency(4), errors: {}, gatewayCpuPercent: 20 }], sustainedAckedPerSec: 1000, stopReason: 'x' },
      persist: { backlog: 500_000, published: 500_000, publishPerSec: 40_000, rowsWritten: 500_000, drainMs: 10_000, rowsPerSec: 50_000, lag: latency(40), liveMessages: 2500, livePublished: 2500, persisterCpuPercent: 90, stream: 'S' },
      steady: {
        sessions: 100,
        membersPerSession: 10,
        servers: 2,
        sendsPerSec: 1000,
        stepMs: 10_000,
        runs: [steadyRun('chat-persisted', 8, 40, { persister: 30, nats: 25, postgres: 35, redis: 20 }), steadyRun('socketio', 5, 45, { nats: 0, postgres: 0, redis: 50 }), steadyRun('relay', 3, 30, { nats: 0, postgres: 0, redis: 45 })],
        durability: [{ ...steadyRun('chat-persisted', 12, 40, { persister: 30, nats: 90, postgres: 35, redis: 20 }), durability: { jetstreamReplicas: 3, synchronousCommit: 'on' } }],
      },
      history: { rows: 1_000_000, seedMs: 9000, pageSize: 50, concurrency: 8, requests: 10_000, requestsPerSec: 700, errors: {}, latency: latency(12), apiUsPerPage: 1400 },
    },
    failures: [],
    targets: [],
  };
  result.targets = evaluateTargets(result);
  return result;
}
