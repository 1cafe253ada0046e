export { runBench, machineInfo, type RunOptions, type RunOutput } from './run-bench.ts';
export { FULL, SMOKE, SCENARIOS, type Profile, type ScenarioName } from './profile.ts';
export { findProblems, type BenchResult } from './result.ts';
export { evaluateTargets } from './targets.ts';
export { renderSummary } from './report/summary.ts';
export { renderFanoutChart } from './report/fanout-chart.ts';
export { renderDocsPage } from './report/docs-page.ts';
export { LatencyRecorder, mergeEncoded, type LatencySummary } from './histogram.ts';
