import type { TargetName } from './scenarios/delivery-run.ts';
import type { Durability } from './servers/own-infra.ts';

/** Sizes of one run. `full` is the measurement; `smoke` proves every scenario end to end in seconds. */
export interface Profile {
  name: 'full' | 'smoke';
  idle: { target: number; gateways: number; membersPerSession: number; perWorker: number; concurrency: number; deadlineMs: number; settleMs: number; holdMs: number };
  fanout: { sessions: number; members: number; rates: number[]; stepMs: number; drainMs: number; workers: number; bodyBytes: number; p99LimitMs: number };
  ack: { connections: number; referenceRate: number; rates: number[]; stepMs: number; drainMs: number; workers: number; bodyBytes: number; p99LimitMs: number };
  persist: { backlog: number; sessions: number; publishWindow: number; drainDeadlineMs: number; liveRate: number; liveMs: number };
  history: { rows: number; pageSize: number; concurrency: number; durationMs: number; maxRequests: number; workers: number };
  steady: { sessions: number; members: number; sendsPerSec: number; stepMs: number; drainMs: number; workers: number; bodyBytes: number; persistDeadlineMs: number; targets: readonly TargetName[]; durability: Durability[] };
}

/** Ours with the persister running, then the two baselines. */
export const STEADY_TARGETS: readonly TargetName[] = ['chat-persisted', 'socketio', 'relay'];

export const FULL: Profile = {
  name: 'full',
  // 15,000 sockets on one gateway (open files are limited to 20,000 a process), held by two load generators.
  idle: { target: 15_000, gateways: 1, membersPerSession: 100, perWorker: 7500, concurrency: 64, deadlineMs: 240_000, settleMs: 3000, holdMs: 30_000 },
  fanout: {
    sessions: 50,
    members: 40,
    rates: [50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000],
    stepMs: 5000,
    drainMs: 2000,
    workers: 2,
    bodyBytes: 100,
    p99LimitMs: 100,
  },
  ack: { connections: 200, referenceRate: 1000, rates: [250, 500, 1000, 2000, 4000, 6000, 8000, 10_000, 12_000, 16_000, 20_000, 30_000], stepMs: 5000, drainMs: 2000, workers: 2, bodyBytes: 100, p99LimitMs: 100 },
  persist: { backlog: 500_000, sessions: 100, publishWindow: 4000, drainDeadlineMs: 300_000, liveRate: 500, liveMs: 5000 },
  history: { rows: 1_000_000, pageSize: 50, concurrency: 8, durationMs: 15_000, maxRequests: 500_000, workers: 2 },
  steady: {
    sessions: 100,
    members: 10,
    sendsPerSec: 1000,
    stepMs: 10_000,
    drainMs: 2000,
    workers: 2,
    bodyBytes: 100,
    persistDeadlineMs: 60_000,
    targets: STEADY_TARGETS,
    durability: [
      { jetstreamReplicas: 3, synchronousCommit: 'on' },
      { jetstreamReplicas: 1, synchronousCommit: 'off' },
      { jetstreamReplicas: 3, synchronousCommit: 'off' },
    ],
  },
};

export const SMOKE: Profile = {
  name: 'smoke',
  idle: { target: 60, gateways: 1, membersPerSession: 10, perWorker: 40, concurrency: 16, deadlineMs: 20_000, settleMs: 300, holdMs: 300 },
  // The drain ends once every ack is in; a long one keeps a late ack on a busy machine from counting as missing.
  fanout: { sessions: 3, members: 4, rates: [20, 40], stepMs: 600, drainMs: 10_000, workers: 2, bodyBytes: 100, p99LimitMs: 100 },
  ack: { connections: 4, referenceRate: 20, rates: [20, 40], stepMs: 600, drainMs: 10_000, workers: 1, bodyBytes: 100, p99LimitMs: 100 },
  persist: { backlog: 1000, sessions: 4, publishWindow: 200, drainDeadlineMs: 30_000, liveRate: 50, liveMs: 600 },
  history: { rows: 2000, pageSize: 50, concurrency: 2, durationMs: 800, maxRequests: 200, workers: 1 },
  // One other durability setting, so switching PostgreSQL's commit mode is exercised; R3 needs three more servers.
  steady: { sessions: 3, members: 4, sendsPerSec: 50, stepMs: 2000, drainMs: 10_000, workers: 2, bodyBytes: 100, persistDeadlineMs: 30_000, targets: STEADY_TARGETS, durability: [{ jetstreamReplicas: 1, synchronousCommit: 'off' }] },
};

export const SCENARIOS = ['idle', 'fanout', 'steady', 'ack', 'persist', 'history'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/**
 * Sizes a command line may change: --idle-target, --persist-backlog, --history-rows; and what
 * steady measures: --steady-targets (a subset of STEADY_TARGETS), --durability=default (no runs
 * under the other durability settings), so a before/after comparison of one target is quick.
 */
export function withOverrides(
  profile: Profile,
  overrides: { idleTarget?: number; persistBacklog?: number; historyRows?: number; steadyTargets?: readonly string[]; durability?: 'default' | 'all' },
): Profile {
  const unknown = overrides.steadyTargets?.filter((name) => !(STEADY_TARGETS as readonly string[]).includes(name)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown steady target ${unknown.join(', ')}; choose from ${STEADY_TARGETS.join(', ')}`);
  const targets = overrides.steadyTargets === undefined ? profile.steady.targets : STEADY_TARGETS.filter((name) => overrides.steadyTargets?.includes(name));
  return {
    ...profile,
    steady: { ...profile.steady, targets, durability: overrides.durability === 'default' ? [] : profile.steady.durability },
    idle: { ...profile.idle, target: overrides.idleTarget ?? profile.idle.target },
    persist: { ...profile.persist, backlog: overrides.persistBacklog ?? profile.persist.backlog },
    history: { ...profile.history, rows: overrides.historyRows ?? profile.history.rows },
  };
}
