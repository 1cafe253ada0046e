import { readFileSync, writeFileSync } from 'node:fs';
import type { SuiteReport } from './fault-suite.ts';

export const BEGIN = '<!-- generated:faults:begin -->';
export const END = '<!-- generated:faults:end -->';
export const HOSTS_BEGIN = '<!-- generated:faults-hosts:begin -->';
export const HOSTS_END = '<!-- generated:faults-hosts:end -->';
export const SOAK_BEGIN = '<!-- generated:soak:begin -->';
export const SOAK_END = '<!-- generated:soak:end -->';

function seconds(ms: number | null): string {
  return ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`;
}

/** For a drain: how the clients came back, e.g. " (450 drain closes, 450 reconnects, 1 per drain at most)". */
function drains(r: SuiteReport['results'][number]): string {
  const d = r.drainReconnects;
  return d ? ` (${d.drainCloses} drain closes, ${d.attempts} reconnects, at most ${d.maxPerDrain} per drain close)` : '';
}

function loads(averages: readonly number[] | undefined): string {
  return averages === undefined ? 'not read' : averages.map((average) => average.toFixed(2)).join(', ');
}

function ms(value: number | undefined): string {
  return value === undefined ? '—' : `${value} ms`;
}

/** The longest the suite's and the client processes' event loops were held up over the run: load, told apart from a failure. */
function loopDelays(report: SuiteReport): string {
  const most = (pick: (r: SuiteReport['results'][number]) => number | undefined) => Math.max(0, ...report.results.map((r) => pick(r) ?? 0));
  return `the suite's own event loop (faults and checks) was held up at most ${most((r) => r.suiteLagMaxMs)} ms, the client processes' at most ${most((r) => r.clientLagMaxMs)} ms`;
}

/** The fault table: one row per fault, its outcome, how long it lasted and took to recover, and the counts. */
export function renderFaultTable(report: SuiteReport, command: string): string {
  const lines = [
    `Last run: ${report.startedAt}, \`${command}\`: ${report.connections} WebSocket clients in ${report.sessions} sessions over two gateways, ` +
      `${report.sendsPerSec} sends/s (about 10 % over REST); killed parts stay dead ${seconds(report.timings.deadMs)}, SIGSTOP lasts ${seconds(report.timings.frozenMs)}, ` +
      `a cut ${seconds(report.timings.cutMs)}, the PostgreSQL stop ${seconds(report.timings.postgresOutageMs)}. ` +
      `The clients ran in ${report.clientProcesses} process${report.clientProcesses === 1 ? '' : 'es'} of their own; ${loopDelays(report)}. ` +
      `The machine's load average (1, 5, 15 min) was ${loads(report.loadAverage.start)} at the start and ${loads(report.loadAverage.end)} at the end.`,
    '',
    '| fault | outcome | fault lasted | recovered in | acked | stored | lost | doubled | holes | view holes | clients dropped / resumed | not ready seen | event-loop delay max, suite / clients (1-min load average at the end) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of report.results) {
    const t = r.tally;
    const outcome = r.passed ? 'pass' : `**FAIL**: ${r.failures.join('; ')}`;
    lines.push(
      `| ${r.fault} | ${outcome} | ${seconds(r.faultMs)} | ${seconds(r.recoveryMs)} | ${t.acked}${t.ackedAfterUnavailable > 0 ? ` (${t.ackedAfterUnavailable} after unavailable)` : ''} | ${t.stored} | ${t.lost} | ${t.doubled} | ${t.holes} | ${t.viewHoles} | ${r.clientsDropped} / ${r.clientsResumed}${drains(r)} | ${r.sawUnready.join(', ') || '—'} | ${ms(r.suiteLagMaxMs)} / ${ms(r.clientLagMaxMs)}${r.load1m === undefined ? '' : ` (${r.load1m})`} |`,
    );
  }
  const total = (key: 'acked' | 'ackedAfterUnavailable' | 'stored' | 'lost' | 'doubled' | 'holes') => report.results.reduce((sum, r) => sum + r.tally[key], 0);
  const failed = report.results.filter((r) => !r.passed).length;
  lines.push('', `In all: ${total('acked')} acked (of which ${total('ackedAfterUnavailable')} were answered \`unavailable\` at least once and then settled by the SDK itself, by a resend with the same clientMsgId or its own stored copy), ${total('stored')} stored, ${total('lost')} lost, ${total('doubled')} doubled, ${total('holes')} holes; ${failed} of ${report.results.length} rows failed.`);
  return lines.join('\n');
}

/** Replaces the text between two markers of docs/reliability.md, keeping the hand-written part. */
export function replaceSection(path: string, begin: string, end: string, content: string): void {
  const doc = readFileSync(path, 'utf8');
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${path} lacks the markers ${begin} … ${end}`);
  writeFileSync(path, `${doc.slice(0, from + begin.length)}\n${content}\n${doc.slice(to)}`);
}
