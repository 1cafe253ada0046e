import type { BenchContext } from '../context.ts';
import { scrapeGateways, stagesBetween, type StageSnapshot } from '../gateway-stages.ts';
import { WorkerPool } from '../generator/pool.ts';
import { CpuSampler, groupSource, processSource, type CpuSource } from '../proc-stats.ts';
import type { SteadyResult, SteadyRun } from '../result.ts';
import { describeDurability, OwnInfra, type Durability } from '../servers/own-infra.ts';
import { openMembers, runStep, startTarget, waitForPersisted, type TargetName } from './delivery-run.ts';

const SERVERS = 2;

/**
 * Scenario 6: every target at one steady, modest rate (1,000 sends/s into sessions of 10) on a
 * Redis, NATS and PostgreSQL of the run's own, sampling the CPU time of every process that does
 * the work: p99 send-to-delivery, gateway CPU per delivery and CPU per message in each tier. Then
 * our system again under each other durability setting, so its price is measured, not guessed.
 */
export async function runSteady(ctx: BenchContext): Promise<SteadyResult> {
  const p = ctx.profile.steady;
  const infra = await OwnInfra.start({ repoRoot: ctx.repoRoot, logDir: ctx.logDir });
  try {
    const runs: SteadyRun[] = [];
    for (const target of p.targets) runs.push(await runOne(ctx, infra, target));
    const durability: SteadyRun[] = [];
    for (const setting of p.durability) {
      await infra.apply(setting);
      durability.push(await runOne(ctx, infra, 'chat-persisted'));
    }
    return { sessions: p.sessions, membersPerSession: p.members, servers: SERVERS, sendsPerSec: p.sendsPerSec, stepMs: p.stepMs, runs, durability };
  } finally {
    await infra.stop();
  }
}

async function runOne(ctx: BenchContext, infra: OwnInfra, name: TargetName): Promise<SteadyRun> {
  const p = ctx.profile.steady;
  const durability: Durability | null = name.startsWith('chat') ? infra.durability : null;
  const scenario = `steady_${durability ? `r${durability.jetstreamReplicas}_${durability.synchronousCommit}` : 'baseline'}`;
  const target = await startTarget(ctx, name, { servers: SERVERS, infra: infra.urls, scenario, streamReplicas: durability?.jetstreamReplicas });
  const pool = new WorkerPool(p.workers);
  try {
    const sessions = await target.sessions(p.sessions, p.members);
    const { connected } = await openMembers(ctx, pool, target, sessions);
    const sources: CpuSource[] = [groupSource('gateways', target.serverPids), ...(target.persisterPid === null ? [] : [processSource('persister', target.persisterPid)]), ...infra.cpuSources()];
    const settle = async (): Promise<boolean | null> => (target.queue ? waitForPersisted(infra.urls.natsUrl, target.queue, p.persistDeadlineMs) : null);
    // Warm-up at the same rate (JIT, pools, the stream's first writes), not recorded.
    await runStep(pool, { ...p, stepMs: Math.min(2000, p.stepMs) }, 0, p.sendsPerSec, connected, async () => {
      await settle();
    });
    // Ours only: the gateways' own histograms, read around the window (the first read also resets their event-loop delay).
    const gatewayUrls = target.kind === 'chat' ? target.targets.map((url) => url.replace(/^ws/, 'http')) : [];
    const stagesBefore: StageSnapshot | null = gatewayUrls.length > 0 ? await scrapeGateways(gatewayUrls) : null;
    const sampler = new CpuSampler(sources);
    const started = performance.now();
    sampler.start();
    let cpuSeconds: Record<string, number> = {};
    let persistedAll: boolean | null = null;
    let windowMs = 0;
    // The window runs until the persister has written the step's last message, so its work is all in it.
    const step = await runStep(pool, p, 1, p.sendsPerSec, connected, async () => {
      persistedAll = await settle();
      cpuSeconds = sampler.stop();
      windowMs = performance.now() - started;
    });
    const gatewayStages = stagesBefore ? stagesBetween(stagesBefore, await scrapeGateways(gatewayUrls)) : null;
    const perMessage = (seconds: number | undefined) => (seconds === undefined ? undefined : round1((seconds * 1e6) / Math.max(1, step.acked)));
    const usPerMessage: Record<string, number> = {};
    for (const tier of ['persister', 'nats', 'postgres', 'redis']) {
      const us = perMessage(cpuSeconds[tier]);
      if (us !== undefined) usPerMessage[tier] = us;
    }
    const run: SteadyRun = {
      target: name,
      label: target.label,
      durability,
      step: { ...step, serverCpuPercent: [] },
      windowMs: Math.round(windowMs),
      persistedAll,
      cpuSeconds: Object.fromEntries(Object.entries(cpuSeconds).map(([key, value]) => [key, Math.round(value * 100) / 100])),
      gatewayUsPerDelivery: round1(((cpuSeconds['gateways'] ?? 0) * 1e6) / Math.max(1, step.delivered)),
      usPerMessage,
      durableUsPerMessage: target.persisterPid === null ? null : round1((usPerMessage['persister'] ?? 0) + (usPerMessage['nats'] ?? 0) + (usPerMessage['postgres'] ?? 0)),
      gatewayStages,
    };
    ctx.log(
      `steady ${name}${durability ? ` (${describeDurability(durability)})` : ''}: p99 ${step.latency.p99} ms, ${run.gatewayUsPerDelivery} µs gateway CPU per delivery, per message ${JSON.stringify(usPerMessage)} µs`,
    );
    await pool.all(() => ({ kind: 'close' }), 30_000);
    return run;
  } finally {
    await pool.stop();
    await target.stop();
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
