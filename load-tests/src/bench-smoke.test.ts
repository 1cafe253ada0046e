import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_NATS_URL, TEST_REDIS_URL } from '../../tests/support/services.ts';
import { findDeliveryFaults } from './delivery-faults.ts';
import { findProblems, type BenchResult } from './result.ts';
import { SCENARIOS, SMOKE } from './profile.ts';
import { runBench, type RunOutput } from './run-bench.ts';

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
// The benchmark's own database, never the tests' one: scenarios seed and delete rows in bulk.
const DATABASE_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/chat_bench';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);

describeReal('a smoke run of every benchmark scenario', () => {
  let outDir = '';
  let output: RunOutput;
  let result: BenchResult;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
    output = await runBench({
      profile: SMOKE,
      scenarios: SCENARIOS,
      repoRoot: REPO_ROOT,
      outDir,
      infra: { redisUrl: TEST_REDIS_URL, natsUrl: TEST_NATS_URL, databaseUrl: DATABASE_URL },
      command: 'pnpm bench:smoke',
      log: () => undefined,
    });
    result = output.result;
    // A minute on a quiet machine; on a busy one the start-up of its dozen server processes dominates.
  }, 900_000);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('completes every scenario without a failure', () => {
    expect(result.failures).toEqual([]);
  });

  it('loses, reorders and leaves unacknowledged nothing, and opens every idle connection', () => {
    expect(findDeliveryFaults(result)).toEqual([]);
  });

  it.each(SCENARIOS)('produces a complete, well-formed %s result', (name) => {
    expect(result.scenarios[name]).toBeDefined();
    expect(findProblems(result, [name]).filter((problem) => problem.startsWith(name))).toEqual([]);
  });

  it('measures ours with the persister running and stopped, Socket.IO and the bare relay in the fan-out', () => {
    const fanout = result.scenarios.fanout!;
    for (const series of [fanout.chatPersisted, fanout.chat, fanout.socketio, fanout.relay]) {
      expect(series.steps.length).toBeGreaterThan(0);
      expect(series.steps[0]!.delivered).toBe(series.steps[0]!.expectedDeliveries);
      expect(series.steps[0]!.delivered).toBeGreaterThan(0);
    }
    expect(Number.isFinite(fanout.ratio)).toBe(true);
    expect(Number.isFinite(fanout.ratioPersisted)).toBe(true);
  });

  it('samples the CPU of every process of each steady run, the durable tiers with the persister caught up', () => {
    const steady = result.scenarios.steady!;
    expect(steady.runs.map((run) => run.target)).toEqual(['chat-persisted', 'socketio', 'relay']);
    expect(steady.durability.map((run) => run.durability)).toEqual(SMOKE.steady.durability);
    const ours = [steady.runs[0]!, ...steady.durability];
    for (const run of ours) {
      expect(run.persistedAll).toBe(true);
      expect(Object.keys(run.cpuSeconds).sort()).toEqual(['gateways', 'nats', 'persister', 'postgres', 'redis']);
      // Writing every message through JetStream into PostgreSQL takes more than a clock tick.
      expect(run.durableUsPerMessage).toBeGreaterThan(0);
      expect((run.cpuSeconds['persister'] ?? 0) + (run.cpuSeconds['postgres'] ?? 0)).toBeGreaterThan(0);
    }
    // The baselines touch neither NATS nor PostgreSQL beyond their idle ticks.
    for (const run of steady.runs.slice(1)) expect(Object.keys(run.cpuSeconds).sort()).toEqual(['gateways', 'nats', 'postgres', 'redis']);
    const gatewayCpu = [...steady.runs, ...steady.durability].reduce((sum, run) => sum + (run.cpuSeconds['gateways'] ?? 0), 0);
    expect(gatewayCpu).toBeGreaterThan(0);
  });

  it('reads where the sends of ours spent their time from the gateways, and nothing for a baseline', () => {
    const steady = result.scenarios.steady!;
    for (const run of [steady.runs[0]!, ...steady.durability]) {
      const byStage = Object.fromEntries((run.gatewayStages?.stages ?? []).map((stage) => [stage.stage, stage.count]));
      // Every acked send went through each call once in the window, and reached at least one gateway's bus.
      expect(byStage['send → ack']).toBe(run.step.acked);
      expect(byStage['redis reserve']).toBeGreaterThanOrEqual(run.step.acked);
      expect(byStage['redis commit']).toBe(run.step.acked);
      expect(byStage['message timestamp → bus arrival']).toBeGreaterThanOrEqual(run.step.acked);
      expect(run.gatewayStages?.eventLoop?.maxMs).toBeGreaterThan(0);
    }
    for (const run of steady.runs.slice(1)) expect(run.gatewayStages).toBeNull();
  });

  it('measures every goal a smoke run can reach', () => {
    // The list of goals is fixed; what shows a scenario ran is a measured figure for each of its goals.
    // A smoke run sends fewer than 1,000/s, opens fewer than 15,000 connections and seeds small tables, so these stay unmeasured.
    const unmeasured = result.targets.filter((target) => target.met === null).map((target) => target.name);
    expect(unmeasured).toEqual([
      'p99 send → delivery at 1,000 sends/s × 10 members, persister running',
      'CPU per message in persister + NATS + PostgreSQL at 1,000 sends/s',
      'idle RSS per connection, one gateway, 15,000 connections',
      'persister rows/s, one persister, 500,000 backlog',
      'history p99, 50 of 1,000,000 rows',
    ]);
    for (const target of result.targets.filter((t) => t.met !== null)) expect(target.measured).toMatch(/\d/);
  });

  it('writes the JSON result, the Markdown summary and the SVG chart', () => {
    const json = JSON.parse(readFileSync(output.files.json, 'utf8')) as BenchResult;
    expect(json.runId).toBe(result.runId);
    const summary = readFileSync(output.files.markdown, 'utf8');
    expect(summary).toContain('### 2. Fan-out');
    expect(summary).toContain('### 6. Steady rate');
    expect(summary).toContain('| figure | this system | Socket.IO 4 + redis-adapter | bare `ws` + `ioredis` relay |');
    const svg = readFileSync(output.files.chart, 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('Socket.IO');
    expect(svg).toContain('bare ws + ioredis relay');
    expect(existsSync(join(output.runDir, 'logs'))).toBe(true);
  });
});
