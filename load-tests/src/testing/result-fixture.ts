import type { LatencySummary } from '../histogram.ts';
import type { BenchResult, FanoutSeries } from '../result.ts';
import { evaluateTargets } from '../targets.ts';

export const latency = (p99: number): LatencySummary => ({ count: 100, p50: p99 / 4, p95: p99 / 2, p99, max: p99 * 2, mean: p99 / 3 });

function series(system: 'chat' | 'socketio', perStep: number, p99s: number[]): FanoutSeries {
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
  return { system, label: system === 'chat' ? 'chat gateway ×2' : 'Socket.IO + redis-adapter ×2', connected: 2000, connectsPerSec: 500, steps, bestDeliveriesPerSec: best, bestDeliveriesPerSecPerServer: best / 2, stopReason: 'p99 passed' };
}

/** A whole result of a full run in which nothing was lost. */
export function benchResultFixture(): BenchResult {
  const chat = series('chat', 30_000, [5, 20, 150]);
  const socketio = series('socketio', 10_000, [10, 160]);
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
      fanout: { sessions: 50, membersPerSession: 40, servers: 2, p99LimitMs: 100, chat, socketio, ratio: 6 },
      ack: { connections: 200, reference: { sendsPerSec: 1000, attempts: 1, sent: 5000, acked: 5000, ackedPerSec: 1000, latency: latency(4), errors: {}, gatewayCpuPercent: 20 }, steps: [{ sendsPerSec: 1000, attempts: 1, sent: 5000, acked: 5000, ackedPerSec: 1000, latency: latency(4), errors: {}, gatewayCpuPercent: 20 }], sustainedAckedPerSec: 1000, stopReason: 'x' },
      persist: { backlog: 500_000, published: 500_000, publishPerSec: 40_000, rowsWritten: 500_000, drainMs: 10_000, rowsPerSec: 50_000, lag: latency(40), liveMessages: 2500, livePublished: 2500, persisterCpuPercent: 90, stream: 'S' },
      history: { rows: 1_000_000, seedMs: 9000, pageSize: 50, concurrency: 8, requests: 10_000, requestsPerSec: 700, errors: {}, latency: latency(12) },
    },
    failures: [],
    targets: [],
  };
  result.targets = evaluateTargets(result);
  return result;
}
