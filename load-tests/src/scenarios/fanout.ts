import { sleep, type BenchContext } from '../context.ts';
import { WorkerPool } from '../generator/pool.ts';
import { CpuMeter } from '../proc-stats.ts';
import type { FanoutResult, FanoutSeries, FanoutStep } from '../result.ts';
import { openMembers, runStep, startTarget, type TargetName } from './delivery-run.ts';

const SERVERS = 2;

/**
 * Scenario 2: S sessions × M members over two replicas, stepping the aggregate send rate: ours with
 * the persister running (as it runs) and stopped, then the Socket.IO baseline and the bare relay.
 */
export async function runFanout(ctx: BenchContext): Promise<FanoutResult> {
  const p = ctx.profile.fanout;
  const chatPersisted = await runSeries(ctx, 'chat-persisted');
  const chat = await runSeries(ctx, 'chat');
  const socketio = await runSeries(ctx, 'socketio');
  const relay = await runSeries(ctx, 'relay');
  const ratio = (ours: FanoutSeries) => (socketio.bestDeliveriesPerSec > 0 ? Math.round((ours.bestDeliveriesPerSec / socketio.bestDeliveriesPerSec) * 100) / 100 : 0);
  return { sessions: p.sessions, membersPerSession: p.members, servers: SERVERS, p99LimitMs: p.p99LimitMs, chat, chatPersisted, socketio, relay, ratio: ratio(chat), ratioPersisted: ratio(chatPersisted) };
}

async function runSeries(ctx: BenchContext, name: TargetName): Promise<FanoutSeries> {
  const p = ctx.profile.fanout;
  const system = await startTarget(ctx, name, { servers: SERVERS, infra: ctx.infra, scenario: 'fanout' });
  const pool = new WorkerPool(p.workers);
  try {
    const sessions = await system.sessions(p.sessions, p.members);
    const { connected, opened: openedCount, connectsPerSec } = await openMembers(ctx, pool, system, sessions);
    ctx.log(`fanout ${name}: ${openedCount} of ${p.sessions * p.members} members connected at ${connectsPerSec}/s`);
    // Warm-up (JIT, connection pools, the stream's first writes), not recorded.
    await pool.all(() => ({ kind: 'rate', stepId: 0, sendsPerSec: (p.rates[0] ?? 10) / p.workers, durationMs: Math.min(2000, p.stepMs), drainMs: p.drainMs, bodyBytes: p.bodyBytes }), 60_000);
    await pool.all(() => ({ kind: 'collect', stepId: 0 }), 30_000);
    const steps: FanoutStep[] = [];
    let stopReason = `ran every step up to ${p.rates.at(-1) ?? 0} sends/s`;
    let stepId = 0;
    const measure = async (rate: number, attempts: number): Promise<FanoutStep> => {
      stepId++;
      const meter = new CpuMeter(system.serverPids);
      meter.start();
      let serverCpuPercent: number[] = [];
      const measured = await runStep(pool, p, stepId, rate, connected, () => {
        serverCpuPercent = meter.stop();
      });
      const step: FanoutStep = { ...measured, attempts, serverCpuPercent };
      ctx.log(`fanout ${name} ${rate} sends/s: ${step.deliveriesPerSec} deliveries/s p99 ${step.latency.p99} ms lost ${step.lost} cpu ${serverCpuPercent.join('/')}%`);
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
    return { system: name, label: system.label, connected: openedCount, connectsPerSec, steps, bestDeliveriesPerSec: best, bestDeliveriesPerSecPerServer: Math.round(best / SERVERS), stopReason };
  } finally {
    await pool.stop();
    await system.stop();
  }
}
