import { createSessions, localSessions, type BenchSession } from '../api-client.ts';
import { assignMembers, queueNames, sleep, sumRecords, type BenchContext } from '../context.ts';
import { mergeEncoded } from '../histogram.ts';
import { WorkerPool } from '../generator/pool.ts';
import type { SystemKind } from '../generator/protocol.ts';
import { CpuMeter } from '../proc-stats.ts';
import type { FanoutResult, FanoutSeries, FanoutStep } from '../result.ts';
import { ChatSystem } from '../servers/chat-system.ts';
import { SocketIoSystem } from '../servers/socketio-system.ts';
import { deleteStream } from '../infra.ts';

const SERVERS = 2;

interface RunningSystem {
  label: string;
  targets: string[];
  pids: number[];
  sessions(count: number, members: number): Promise<BenchSession[]>;
  stop(): Promise<void>;
}

/** Scenario 2: S sessions × M members over two replicas, stepping the aggregate send rate; then the same for Socket.IO. */
export async function runFanout(ctx: BenchContext): Promise<FanoutResult> {
  const p = ctx.profile.fanout;
  const chat = await runSeries(ctx, 'chat', async () => {
    const queue = queueNames(ctx.runId, 'fanout');
    const system = await ChatSystem.start({ ...ctx, queue, gateways: SERVERS, persister: false });
    return {
      label: 'chat gateway ×2',
      targets: system.wsUrls,
      pids: system.gateways.map((gateway) => gateway.process.pid),
      sessions: (count, members) => createSessions(system.api.url, ctx.signer, count, members),
      stop: async () => {
        await system.stop();
        await deleteStream(ctx.infra.natsUrl, queue).catch(() => undefined);
      },
    };
  });
  const socketio = await runSeries(ctx, 'socketio', async () => {
    const system = await SocketIoSystem.start({ nodes: SERVERS, logDir: ctx.logDir, secret: ctx.secret, redisUrl: ctx.infra.redisUrl, keyPrefix: `bench-sio-${ctx.runId}` });
    return {
      label: 'Socket.IO + redis-adapter ×2',
      targets: system.nodes.map((node) => node.url),
      pids: system.nodes.map((node) => node.process.pid),
      sessions: (count, members) => Promise.resolve(localSessions(count, members)),
      stop: () => system.stop(),
    };
  });
  return {
    sessions: p.sessions,
    membersPerSession: p.members,
    servers: SERVERS,
    p99LimitMs: p.p99LimitMs,
    chat,
    socketio,
    ratio: socketio.bestDeliveriesPerSec > 0 ? Math.round((chat.bestDeliveriesPerSec / socketio.bestDeliveriesPerSec) * 100) / 100 : 0,
  };
}

async function runSeries(ctx: BenchContext, kind: SystemKind, start: () => Promise<RunningSystem>): Promise<FanoutSeries> {
  const p = ctx.profile.fanout;
  const system = await start();
  const pool = new WorkerPool(p.workers);
  try {
    const sessions = await system.sessions(p.sessions, p.members);
    const members = assignMembers(sessions, system.targets, p.workers);
    const opened = await pool.all(
      (worker) => ({
        kind: 'open',
        system: kind,
        secret: ctx.secret,
        members: members[worker.index] ?? [],
        concurrency: 32,
        connectTimeoutMs: 10_000,
        maxConsecutiveFailures: 50,
        deadlineMs: 120_000,
      }),
      150_000,
    );
    const connected = sumRecords(opened.map((reply) => reply.openedPerSession));
    const openedCount = opened.reduce((sum, reply) => sum + reply.opened, 0);
    const openSeconds = Math.max(...opened.map((reply) => reply.durationMs)) / 1000;
    const connectsPerSec = Math.round(openedCount / openSeconds);
    ctx.log(`fanout ${kind}: ${openedCount} of ${p.sessions * p.members} members connected in ${openSeconds.toFixed(1)} s`);
    // Warm-up (JIT, connection pools, the stream's first writes), not recorded.
    await pool.all(() => ({ kind: 'rate', stepId: 0, sendsPerSec: (p.rates[0] ?? 10) / p.workers, durationMs: Math.min(2000, p.stepMs), drainMs: p.drainMs, bodyBytes: p.bodyBytes }), 60_000);
    await pool.all(() => ({ kind: 'collect', stepId: 0 }), 30_000);
    const steps: FanoutStep[] = [];
    let stopReason = `ran every step up to ${p.rates.at(-1) ?? 0} sends/s`;
    let stepId = 0;
    const measure = async (rate: number, attempts: number): Promise<FanoutStep> => {
      stepId++;
      const meter = new CpuMeter(system.pids);
      meter.start();
      const sent = await pool.all(
        () => ({ kind: 'rate', stepId, sendsPerSec: rate / p.workers, durationMs: p.stepMs, drainMs: p.drainMs, bodyBytes: p.bodyBytes }),
        p.stepMs * 3 + p.drainMs + 30_000,
      );
      const serverCpuPercent = meter.stop();
      const collected = await pool.all(() => ({ kind: 'collect', stepId }), 30_000);
      const ackedPerSession = sumRecords(sent.map((reply) => reply.ackedPerSession));
      const expectedDeliveries = Object.entries(ackedPerSession).reduce((sum, [sessionId, acked]) => sum + acked * (connected[sessionId] ?? 0), 0);
      const delivered = collected.reduce((sum, reply) => sum + reply.delivered, 0);
      const sendSeconds = Math.max(...sent.map((reply) => reply.sendDurationMs)) / 1000;
      const step: FanoutStep = {
        sendsPerSec: rate,
        attempts,
        sent: sent.reduce((sum, reply) => sum + reply.sent, 0),
        acked: sent.reduce((sum, reply) => sum + reply.acked, 0),
        expectedDeliveries,
        delivered,
        lost: Math.max(0, expectedDeliveries - delivered),
        outOfOrder: collected.reduce((sum, reply) => sum + reply.outOfOrder, 0),
        deliveriesPerSec: Math.round(delivered / sendSeconds),
        latency: mergeEncoded(collected.map((reply) => reply.deliveryHistogram)).summary(),
        ackLatency: mergeEncoded(sent.map((reply) => reply.ackHistogram)).summary(),
        errors: sumRecords(sent.map((reply) => reply.errors)),
        serverCpuPercent,
      };
      ctx.log(`fanout ${kind} ${rate} sends/s: ${step.deliveriesPerSec} deliveries/s p99 ${step.latency.p99} ms lost ${step.lost} cpu ${serverCpuPercent.join('/')}%`);
      return step;
    };
    const failure = (step: FanoutStep): string | null => {
      if (step.latency.p99 > p.p99LimitMs) return `p99 ${step.latency.p99} ms passed ${p.p99LimitMs} ms at ${step.sendsPerSec} sends/s`;
      if (step.lost > 0 || step.acked < step.sent) return `${step.lost} deliveries lost, ${step.sent - step.acked} sends unacknowledged at ${step.sendsPerSec} sends/s`;
      return null;
    };
    for (const rate of p.rates) {
      let step = await measure(rate, 1);
      // One repeat of a failed step, so a burst of other work on the machine does not end the search.
      if (failure(step) !== null) {
        const { sent, acked, expectedDeliveries, delivered, lost, outOfOrder } = step;
        await sleep(1000);
        step = { ...(await measure(rate, 2)), firstAttempt: { sent, acked, expectedDeliveries, delivered, lost, outOfOrder } };
      }
      steps.push(step);
      const failed = failure(step);
      if (failed !== null) {
        stopReason = `${failed} (twice)`;
        break;
      }
      await sleep(300);
    }
    const good = steps.filter((step) => step.latency.p99 <= p.p99LimitMs && step.lost === 0 && step.acked === step.sent);
    const best = Math.max(0, ...good.map((step) => step.deliveriesPerSec));
    await pool.all(() => ({ kind: 'close' }), 30_000);
    return { system: kind, label: system.label, connected: openedCount, connectsPerSec, steps, bestDeliveriesPerSec: best, bestDeliveriesPerSecPerServer: Math.round(best / SERVERS), stopReason };
  } finally {
    await pool.stop();
    await system.stop();
  }
}
