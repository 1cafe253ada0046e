import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { createSessions, localSessions, type BenchSession } from '../api-client.ts';
import { assignMembers, queueNames, sleep, sumRecords, type BenchContext } from '../context.ts';
import type { WorkerPool } from '../generator/pool.ts';
import type { SystemKind } from '../generator/protocol.ts';
import { mergeEncoded } from '../histogram.ts';
import { deleteStream } from '../infra.ts';
import type { FanoutStep } from '../result.ts';
import { BaselineSystem } from '../servers/baseline-system.ts';
import { ChatSystem, type InfraUrls, type QueueNames } from '../servers/chat-system.ts';

/** What a delivery scenario drives: ours with the persister stopped or running, or a baseline. */
export type TargetName = 'chat' | 'chat-persisted' | 'socketio' | 'relay';

export const TARGET_LABELS: Record<TargetName, string> = {
  chat: 'chat gateway ×2, persister stopped',
  'chat-persisted': 'chat gateway ×2, persister running',
  socketio: 'Socket.IO + redis-adapter ×2',
  relay: 'bare ws + ioredis relay ×2',
};

export interface RunningTarget {
  name: TargetName;
  kind: SystemKind;
  label: string;
  targets: string[];
  /** The processes that hold the sockets: gateways or baseline nodes. */
  serverPids: number[];
  persisterPid: number | null;
  queue: QueueNames | null;
  sessions(count: number, members: number): Promise<BenchSession[]>;
  stop(): Promise<void>;
}

export async function startTarget(ctx: BenchContext, name: TargetName, options: { servers: number; infra: InfraUrls; scenario: string; streamReplicas?: number }): Promise<RunningTarget> {
  const label = TARGET_LABELS[name];
  if (name === 'socketio' || name === 'relay') {
    const system = await BaselineSystem.start({ kind: name, nodes: options.servers, logDir: ctx.logDir, secret: ctx.secret, redisUrl: options.infra.redisUrl, keyPrefix: `bench-${name}-${ctx.runId}-${options.scenario}` });
    return {
      name,
      kind: name,
      label,
      targets: system.targets,
      serverPids: system.pids,
      persisterPid: null,
      queue: null,
      sessions: (count, members) => Promise.resolve(localSessions(count, members)),
      stop: () => system.stop(),
    };
  }
  const queue = queueNames(ctx.runId, `${options.scenario}_${name}`);
  const system = await ChatSystem.start({ ...ctx, infra: options.infra, queue, gateways: options.servers, persister: name === 'chat-persisted', streamReplicas: options.streamReplicas });
  return {
    name,
    kind: 'chat',
    label,
    targets: system.wsUrls,
    serverPids: system.gateways.map((gateway) => gateway.process.pid),
    persisterPid: system.persister?.process.pid ?? null,
    queue,
    sessions: (count, members) => createSessions(system.api.url, ctx.signer, count, members),
    stop: async () => {
      await system.stop();
      await deleteStream(options.infra.natsUrl, queue).catch(() => undefined);
    },
  };
}

/** Seats every member (32 connections in flight per load generator); members connected per session and the connect rate. */
export async function openMembers(ctx: BenchContext, pool: WorkerPool, target: RunningTarget, sessions: BenchSession[]): Promise<{ connected: Record<string, number>; opened: number; connectsPerSec: number }> {
  const members = assignMembers(sessions, target.targets, pool.workers.length);
  const opened = await pool.all(
    (worker) => ({ kind: 'open', system: target.kind, secret: ctx.secret, members: members[worker.index] ?? [], concurrency: 32, connectTimeoutMs: 10_000, maxConsecutiveFailures: 50, deadlineMs: 120_000 }),
    150_000,
  );
  const openedCount = opened.reduce((sum, reply) => sum + reply.opened, 0);
  const openSeconds = Math.max(...opened.map((reply) => reply.durationMs)) / 1000;
  return { connected: sumRecords(opened.map((reply) => reply.openedPerSession)), opened: openedCount, connectsPerSec: Math.round(openedCount / openSeconds) };
}

export interface StepShape {
  stepMs: number;
  drainMs: number;
  bodyBytes: number;
}

/**
 * One open-loop step at an aggregate rate: sends, waits for acks, runs `afterSends` (where a
 * caller stops its CPU meter), then collects the deliveries. Expected deliveries are acked sends
 * times the members connected to their session.
 */
export async function runStep(pool: WorkerPool, shape: StepShape, stepId: number, rate: number, connected: Record<string, number>, afterSends: () => Promise<void> | void): Promise<Omit<FanoutStep, 'serverCpuPercent'>> {
  const workers = pool.workers.length;
  const sent = await pool.all(
    () => ({ kind: 'rate', stepId, sendsPerSec: rate / workers, durationMs: shape.stepMs, drainMs: shape.drainMs, bodyBytes: shape.bodyBytes }),
    shape.stepMs * 3 + shape.drainMs + 30_000,
  );
  await afterSends();
  const collected = await pool.all(() => ({ kind: 'collect', stepId }), 30_000);
  const ackedPerSession = sumRecords(sent.map((reply) => reply.ackedPerSession));
  const expectedDeliveries = Object.entries(ackedPerSession).reduce((sum, [sessionId, acked]) => sum + acked * (connected[sessionId] ?? 0), 0);
  const delivered = collected.reduce((sum, reply) => sum + reply.delivered, 0);
  const sendSeconds = Math.max(...sent.map((reply) => reply.sendDurationMs)) / 1000;
  return {
    sendsPerSec: rate,
    attempts: 1,
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
  };
}

/** Until the persister's durable consumer has nothing pending or unacknowledged: every sent message is a row. */
export async function waitForPersisted(natsUrl: string, queue: QueueNames, deadlineMs: number): Promise<boolean> {
  const nc = await natsConnect({ servers: natsUrl.split(',') });
  try {
    const jsm = await jetstreamManager(nc);
    const deadline = performance.now() + deadlineMs;
    while (performance.now() < deadline) {
      const info = await jsm.consumers.info(queue.stream, queue.consumer).catch(() => null);
      if (info && info.num_pending === 0 && info.num_ack_pending === 0) return true;
      await sleep(50);
    }
    return false;
  } finally {
    await nc.close();
  }
}
