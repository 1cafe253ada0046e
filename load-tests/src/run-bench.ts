import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from './context.ts';
import { ensureDatabase, migrate } from './infra.ts';
import { openFilesLimit } from './proc-stats.ts';
import type { Profile, ScenarioName } from './profile.ts';
import { renderFanoutChart } from './report/fanout-chart.ts';
import { renderSummary } from './report/summary.ts';
import type { BenchResult, MachineInfo, ScenarioResults } from './result.ts';
import { runAck } from './scenarios/ack.ts';
import { runFanout } from './scenarios/fanout.ts';
import { runHistory } from './scenarios/history.ts';
import { runIdle } from './scenarios/idle.ts';
import { runPersist } from './scenarios/persist.ts';
import { runSteady } from './scenarios/steady.ts';
import { evaluateTargets } from './targets.ts';
import type { InfraUrls } from './servers/chat-system.ts';
import { TokenSigner } from './tokens.ts';

export interface RunOptions {
  profile: Profile;
  scenarios: readonly ScenarioName[];
  repoRoot: string;
  outDir: string;
  infra: InfraUrls;
  command: string;
  log?: (line: string) => void;
}

export interface RunOutput {
  result: BenchResult;
  runDir: string;
  files: { json: string; markdown: string; chart: string };
}

export function machineInfo(loadAtStart: number): MachineInfo {
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    kernel: release(),
    openFilesLimit: openFilesLimit('self'),
    loadAverage: { start: loadAtStart, end: round2(loadavg()[0] ?? 0) },
  };
}

/** Runs the chosen scenarios one after another; a failing scenario is recorded and the rest still run. */
export async function runBench(options: RunOptions): Promise<RunOutput> {
  const startedAt = new Date();
  const loadAtStart = round2(loadavg()[0] ?? 0);
  const runId = `${startedAt.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}_${randomBytes(3).toString('hex')}`;
  const runDir = join(options.outDir, runId);
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const log = options.log ?? ((line: string) => process.stderr.write(`[bench] ${line}\n`));
  const secret = randomBytes(32).toString('base64url');
  await ensureDatabase(options.infra.databaseUrl);
  await migrate(options.repoRoot, options.infra.databaseUrl);
  const ctx: BenchContext = { profile: options.profile, repoRoot: options.repoRoot, runId, runDir, logDir, secret, signer: new TokenSigner(secret), infra: options.infra, log };
  const scenarios: ScenarioResults = {};
  const failures: BenchResult['failures'] = [];
  for (const name of options.scenarios) {
    log(`scenario ${name} (${options.profile.name})`);
    try {
      await runScenario(name, ctx, scenarios);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`scenario ${name} failed: ${message}`);
      failures.push({ scenario: name, message });
    }
  }
  const result: BenchResult = {
    schema: 'chat-bench/1',
    runId,
    profile: options.profile.name,
    command: options.command,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineInfo(loadAtStart),
    scenarios,
    failures,
    targets: evaluateTargets({ scenarios }),
  };
  const files = { json: join(runDir, 'result.json'), markdown: join(runDir, 'summary.md'), chart: join(runDir, 'fanout.svg') };
  writeFileSync(files.json, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(files.markdown, renderSummary(result));
  writeFileSync(files.chart, renderFanoutChart(result));
  return { result, runDir, files };
}

async function runScenario(name: ScenarioName, ctx: BenchContext, into: ScenarioResults): Promise<void> {
  switch (name) {
    case 'idle':
      into.idle = await runIdle(ctx);
      return;
    case 'fanout':
      into.fanout = await runFanout(ctx);
      return;
    case 'ack':
      into.ack = await runAck(ctx);
      return;
    case 'persist':
      into.persist = await runPersist(ctx);
      return;
    case 'history':
      into.history = await runHistory(ctx);
      return;
    case 'steady':
      into.steady = await runSteady(ctx);
      return;
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
