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

  it('measures both systems in the fan-out and sets them side by side as a ratio', () => {
    const fanout = result.scenarios.fanout!;
    expect(fanout.chat.steps.length).toBeGreaterThan(0);
    expect(fanout.socketio.steps.length).toBeGreaterThan(0);
    expect(fanout.chat.steps[0]!.delivered).toBeGreaterThan(0);
    expect(fanout.socketio.steps[0]!.delivered).toBeGreaterThan(0);
    expect(Number.isFinite(fanout.ratio)).toBe(true);
  });

  it('measures every target a smoke run can reach', () => {
    // The list of targets is fixed; what shows a scenario ran is a measured figure for each of its targets.
    // A smoke run sends fewer than 1,000/s and seeds fewer than 1,000,000 rows, so these two stay unmeasured.
    const unmeasured = result.targets.filter((target) => target.met === null).map((target) => target.name);
    expect(unmeasured).toEqual(['ack p99 at 1,000 sends/s', 'history p99, page of 50 on 1,000,000 rows']);
    for (const target of result.targets.filter((t) => t.met !== null)) expect(target.measured).toMatch(/\d/);
  });

  it('writes the JSON result, the Markdown summary and the SVG chart', () => {
    const json = JSON.parse(readFileSync(output.files.json, 'utf8')) as BenchResult;
    expect(json.runId).toBe(result.runId);
    expect(readFileSync(output.files.markdown, 'utf8')).toContain('### 2. Fan-out');
    const svg = readFileSync(output.files.chart, 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('Socket.IO');
    expect(existsSync(join(output.runDir, 'logs'))).toBe(true);
  });
});
