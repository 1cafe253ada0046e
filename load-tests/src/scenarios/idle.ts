import { createSessions } from '../api-client.ts';
import { assignMembers, queueNames, sleep, sumRecords, type BenchContext } from '../context.ts';
import { WorkerPool } from '../generator/pool.ts';
import { cpuSeconds, openFilesLimit, rssBytes } from '../proc-stats.ts';
import type { GatewayMemory, IdleResult } from '../result.ts';
import { ChatSystem } from '../servers/chat-system.ts';

/** Scenario 1: ramp idle connections across the gateways; memory per connection and connect rate. */
export async function runIdle(ctx: BenchContext): Promise<IdleResult> {
  const p = ctx.profile.idle;
  const system = await ChatSystem.start({ ...ctx, queue: queueNames(ctx.runId, 'idle'), gateways: p.gateways, persister: false });
  const workers = Math.ceil(p.target / p.perWorker);
  const pool = new WorkerPool(workers);
  try {
    const sessions = await createSessions(system.api.url, ctx.signer, Math.ceil(p.target / p.membersPerSession), p.membersPerSession);
    const members = assignMembers(sessions, system.wsUrls, workers);
    await sleep(500);
    const before = system.gateways.map((gateway) => rssBytes(gateway.process.pid));
    const cpuBefore = system.gateways.map((gateway) => cpuSeconds(gateway.process.pid));
    ctx.log(`idle: opening ${p.target} connections over ${p.gateways} gateways from ${workers} load generators`);
    const started = performance.now();
    const replies = await pool.all(
      (worker) => ({
        kind: 'open',
        system: 'chat',
        secret: ctx.secret,
        members: members[worker.index] ?? [],
        concurrency: p.concurrency,
        connectTimeoutMs: 15_000,
        maxConsecutiveFailures: 200,
        deadlineMs: p.deadlineMs,
      }),
      p.deadlineMs + 30_000,
    );
    const durationMs = performance.now() - started;
    // Read before the settle: CPU per connect is the ramp's own, independent of how loaded the machine is.
    const cpuAfter = system.gateways.map((gateway) => cpuSeconds(gateway.process.pid));
    await sleep(p.settleMs);
    const opened = replies.reduce((sum, reply) => sum + reply.opened, 0);
    const failed = replies.reduce((sum, reply) => sum + reply.failed, 0);
    const perTarget = sumRecords(replies.map((reply) => reply.openedPerTarget));
    const failures = sumRecords(replies.map((reply) => reply.failures));
    const gateways = system.gateways.map((gateway, i) => {
      const wsUrl = system.wsUrls[i] ?? '';
      const connections = perTarget[wsUrl] ?? 0;
      const rssAfterBytes = rssBytes(gateway.process.pid);
      const rssBeforeBytes = before[i] ?? 0;
      const rampCpuSeconds = (cpuAfter[i] ?? 0) - (cpuBefore[i] ?? 0);
      const memory: GatewayMemory = {
        url: gateway.url,
        connections,
        rssBeforeBytes,
        rssAfterBytes,
        rssPerConnectionBytes: connections > 0 ? Math.round((rssAfterBytes - rssBeforeBytes) / connections) : 0,
        openFilesLimit: openFilesLimit(gateway.process.pid),
        cpuMicrosPerConnect: connections > 0 ? Math.round((rampCpuSeconds * 1e6) / connections) : 0,
      };
      return memory;
    });
    // Held idle: V8 keeps the young generation it grew for the ramp until a collection finds the
    // process allocating little, so the first reading is the ramp's and this one the idle gateway's.
    await sleep(p.holdMs);
    for (const [i, g] of gateways.entries()) {
      const held = rssBytes(system.gateways[i]?.process.pid ?? -1);
      g.rssHeldBytes = held;
      g.rssPerConnectionHeldBytes = g.connections > 0 ? Math.round((held - g.rssBeforeBytes) / g.connections) : 0;
    }
    for (const g of gateways) {
      ctx.log(`idle: ${g.url} ${g.connections} connections, ${g.cpuMicrosPerConnect} µs CPU per connect, RSS ${kib(g.rssPerConnectionBytes)} KiB per connection ${p.settleMs / 1000} s after the ramp, ${kib(g.rssPerConnectionHeldBytes ?? 0)} KiB ${(p.settleMs + p.holdMs) / 1000} s after`);
    }
    await pool.all(() => ({ kind: 'close' }), 60_000);
    return {
      requested: p.target,
      opened,
      failed,
      durationMs: Math.round(durationMs),
      connectsPerSec: Math.round(opened / (durationMs / 1000)),
      loadGenerators: workers,
      gateways,
      stopReason: describeStop(opened, p, failures, replies.map((reply) => reply.stopCause), gateways),
      failures,
    };
  } finally {
    await pool.stop();
    await system.stop();
  }
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

function describeStop(
  opened: number,
  p: BenchContext['profile']['idle'],
  failures: Record<string, number>,
  causes: readonly (string | null)[],
  gateways: IdleResult['gateways'],
): string {
  if (opened >= p.target) return `reached the target of ${p.target} connections`;
  const top = Object.entries(failures).sort((a, b) => b[1] - a[1])[0];
  const failed = top ? `most frequent failure ${top[0]} ×${top[1]}` : 'no failure recorded';
  const fdLimits = [...new Set(gateways.map((gateway) => gateway.openFilesLimit))].join('/');
  const limits = `open-file limit ${fdLimits} per gateway and ${openFilesLimit('self')} per load generator`;
  if (causes.includes('consecutive_failures')) return `stopped at ${opened} of ${p.target}: connections kept failing (${failed}); ${limits}`;
  if (causes.includes('deadline')) return `stopped at ${opened} of ${p.target}: the ramp's deadline of ${p.deadlineMs / 1000} s passed (${failed}); ${limits}`;
  return `ended at ${opened} of ${p.target} (${failed}); ${limits}`;
}
