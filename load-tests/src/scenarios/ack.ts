import { createSessions } from '../api-client.ts';
import { assignMembers, queueNames, sleep, sumRecords, type BenchContext } from '../context.ts';
import { mergeEncoded } from '../histogram.ts';
import { WorkerPool } from '../generator/pool.ts';
import { CpuMeter } from '../proc-stats.ts';
import type { AckResult, AckStep } from '../result.ts';
import { ChatSystem } from '../servers/chat-system.ts';
import { deleteStream } from '../infra.ts';

/** Scenario 3: send-to-ack latency on one gateway, then the highest acked send rate it sustains. */
export async function runAck(ctx: BenchContext): Promise<AckResult> {
  const p = ctx.profile.ack;
  const queue = queueNames(ctx.runId, 'ack');
  const system = await ChatSystem.start({ ...ctx, queue, gateways: 1, persister: false });
  const pool = new WorkerPool(p.workers);
  const gateway = system.gateways[0];
  try {
    if (!gateway) throw new Error('no gateway started');
    // One member per session: the figure is the write path, not fan-out.
    const sessions = await createSessions(system.api.url, ctx.signer, p.connections, 1);
    const members = assignMembers(sessions, system.wsUrls, p.workers);
    await pool.all(
      (worker) => ({ kind: 'open', system: 'chat', secret: ctx.secret, members: members[worker.index] ?? [], concurrency: 16, connectTimeoutMs: 10_000, maxConsecutiveFailures: 20, deadlineMs: 60_000 }),
      90_000,
    );
    const measure = async (rate: number, stepId: number, attempts = 1): Promise<AckStep> => {
      const meter = new CpuMeter([gateway.process.pid]);
      meter.start();
      const replies = await pool.all(
        () => ({ kind: 'rate', stepId, sendsPerSec: rate / p.workers, durationMs: p.stepMs, drainMs: p.drainMs, bodyBytes: p.bodyBytes }),
        p.stepMs * 3 + p.drainMs + 30_000,
      );
      const [cpu] = meter.stop();
      await pool.all(() => ({ kind: 'collect', stepId }), 30_000);
      const acked = replies.reduce((sum, reply) => sum + reply.acked, 0);
      const seconds = Math.max(...replies.map((reply) => reply.sendDurationMs)) / 1000;
      const step: AckStep = {
        sendsPerSec: rate,
        attempts,
        sent: replies.reduce((sum, reply) => sum + reply.sent, 0),
        acked,
        ackedPerSec: Math.round(acked / seconds),
        latency: mergeEncoded(replies.map((reply) => reply.ackHistogram)).summary(),
        errors: sumRecords(replies.map((reply) => reply.errors)),
        gatewayCpuPercent: cpu ?? 0,
      };
      ctx.log(`ack ${rate} sends/s: ${step.ackedPerSec} acked/s p50 ${step.latency.p50} p99 ${step.latency.p99} ms cpu ${step.gatewayCpuPercent}%`);
      return step;
    };
    // Warm-up (JIT, connection pools, the stream's first writes), not recorded.
    await measure(p.rates[0] ?? p.referenceRate, 0);
    const reference = await measure(p.referenceRate, 1);
    const steps: AckStep[] = [];
    let stopReason = `ran every step up to ${p.rates.at(-1) ?? 0} sends/s`;
    const failure = (step: AckStep): string | null => {
      if (step.acked < step.sent * 0.99) return `only ${step.acked} of ${step.sent} sends acknowledged at ${step.sendsPerSec} sends/s`;
      if (step.latency.p99 > p.p99LimitMs) return `ack p99 ${step.latency.p99} ms passed ${p.p99LimitMs} ms at ${step.sendsPerSec} sends/s`;
      return null;
    };
    let stepId = 1;
    for (const rate of p.rates) {
      await sleep(300);
      let step = await measure(rate, ++stepId);
      // One repeat of a failed step, so a burst of other work on the machine does not end the search.
      if (failure(step) !== null) {
        const { sent, acked } = step;
        await sleep(1000);
        step = { ...(await measure(rate, ++stepId, 2)), firstAttempt: { sent, acked } };
      }
      steps.push(step);
      const failed = failure(step);
      if (failed !== null) {
        stopReason = `${failed} (twice)`;
        break;
      }
    }
    const sustained = steps.filter((step) => step.acked >= step.sent * 0.99 && step.latency.p99 <= p.p99LimitMs);
    await pool.all(() => ({ kind: 'close' }), 30_000);
    return { connections: p.connections, reference, steps, sustainedAckedPerSec: Math.max(0, ...sustained.map((step) => step.ackedPerSec)), stopReason };
  } finally {
    await pool.stop();
    await system.stop();
    await deleteStream(ctx.infra.natsUrl, queue).catch(() => undefined);
  }
}
