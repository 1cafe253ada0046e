/**
 * pnpm bench [--smoke] [--only=idle,fanout,steady,ack,persist,history] [--out=dir] [--no-docs]
 *             [--idle-target=N] [--persist-backlog=N] [--history-rows=N]
 *             [--steady-targets=chat-persisted,socketio,relay] [--durability=default|all]
 * pnpm bench --render=<result.json>   (rewrite docs/benchmarks.md from a run)
 * pnpm bench --cluster [--cluster-port=N] [--only=...]
 *   the scenarios against the single servers and then against a Redis Cluster (3 + 3) and a
 *   NATS cluster (3 nodes, stream R3) it starts on ports from N (28000), in one invocation
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FULL, SCENARIOS, SMOKE, withOverrides, type ScenarioName } from './profile.ts';
import { renderDocsPage, DOCS_CHART } from './report/docs-page.ts';
import { renderFanoutChart } from './report/fanout-chart.ts';
import type { BenchResult } from './result.ts';
import { CLUSTER_SCENARIOS, runClusterComparison } from './cluster-bench.ts';
import { runBench } from './run-bench.ts';
import { evaluateTargets } from './targets.ts';

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

function numberFlag(name: string): number | undefined {
  const value = flag(name);
  if (value === undefined) return undefined;
  const parsed = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive integer`);
  return parsed;
}

function writeDocs(result: BenchResult): void {
  const page = join(REPO_ROOT, 'docs', 'benchmarks.md');
  // Sections written by hand (what each change bought) stay.
  writeFileSync(page, renderDocsPage(result, existsSync(page) ? readFileSync(page, 'utf8') : ''));
  writeFileSync(join(REPO_ROOT, 'docs', DOCS_CHART), renderFanoutChart(result));
  process.stderr.write(`[bench] wrote docs/benchmarks.md and docs/${DOCS_CHART}\n`);
}

async function main(): Promise<void> {
  // Flags take their value after "=": "--render file" would otherwise start a whole run.
  const bare = process.argv.slice(2).find((arg) => /^--(render|only|out|idle-target|persist-backlog|history-rows|steady-targets|durability)$/.test(arg));
  if (bare !== undefined) throw new Error(`${bare} takes its value after "=", e.g. ${bare}=…`);
  const render = flag('render');
  if (render !== undefined) {
    const stored = JSON.parse(readFileSync(render, 'utf8')) as BenchResult;
    // Targets are re-read from the figures, so a page always shows the current definitions.
    writeDocs({ ...stored, targets: evaluateTargets(stored) });
    return;
  }
  const smoke = process.argv.includes('--smoke');
  const resized = ['idle-target', 'persist-backlog', 'history-rows', 'steady-targets', 'durability'].some((name) => flag(name) !== undefined);
  const durability = flag('durability');
  if (durability !== undefined && durability !== 'default' && durability !== 'all') throw new Error('--durability must be default or all');
  const only = flag('only')?.split(',').filter((name) => name.length > 0);
  const unknown = only?.filter((name) => !(SCENARIOS as readonly string[]).includes(name)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  const profile = withOverrides(smoke ? SMOKE : FULL, { idleTarget: numberFlag('idle-target'), persistBacklog: numberFlag('persist-backlog'), historyRows: numberFlag('history-rows'),
    steadyTargets: flag('steady-targets')?.split(',').filter((name) => name.length > 0),
    durability,
  });
  const infra = {
    // Database 1: the gateways' connection caps are keyed by client address, so a run's thousands of leases in the tests' database 0 would refuse their connections.
    redisUrl: process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379/1',
    natsUrl: process.env['BENCH_NATS_URL'] ?? 'nats://127.0.0.1:4222',
    databaseUrl: process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/chat_bench',
  };
  const command = ['pnpm', smoke ? 'bench:smoke' : 'bench', ...process.argv.slice(2).filter((arg) => arg !== '--smoke')].join(' ');
  const outDir = resolve(REPO_ROOT, flag('out') ?? 'bench-results');
  if (process.argv.includes('--cluster')) {
    const comparison = await runClusterComparison({
      profile,
      scenarios: (only ?? CLUSTER_SCENARIOS) as ScenarioName[],
      repoRoot: REPO_ROOT,
      outDir,
      single: infra,
      firstPort: numberFlag('cluster-port') ?? 28_000,
      command,
      log: (line) => process.stderr.write(`[bench] ${line}\n`),
    });
    const file = join(comparison.clustered.runDir, 'cluster-comparison.md');
    writeFileSync(file, comparison.markdown);
    process.stdout.write(comparison.markdown);
    process.stderr.write(`[bench] comparison: ${file}\n`);
    if ([comparison.single, comparison.clustered].some((run) => run.result.failures.length > 0)) process.exitCode = 1;
    return;
  }
  const scenarios = (only ?? SCENARIOS) as ScenarioName[];
  const { result, files, runDir } = await runBench({ profile, scenarios, repoRoot: REPO_ROOT, outDir, infra, command });
  copyFileSync(files.markdown, join(runDir, '..', 'latest.md'));
  process.stdout.write(readFileSync(files.markdown, 'utf8'));
  process.stderr.write(`[bench] result: ${files.json}\n`);
  // A full run of every scenario is the page's source; partial and smoke runs stay in bench-results/.
  if (!smoke && !only && !resized && !process.argv.includes('--no-docs')) writeDocs(result);
  if (result.failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
