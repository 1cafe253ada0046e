import type { BenchResult, FanoutSeries } from '../result.ts';

const KIB = 1024;
const n = (v: number) => Math.round(v).toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / KIB / KIB).toFixed(1)} MiB`;
const errors = (record: Record<string, number>) => {
  const entries = Object.entries(record);
  return entries.length === 0 ? '0' : entries.map(([code, count]) => `${code} ${count}`).join(', ');
};

function fanoutTable(series: FanoutSeries): string[] {
  const lines = [
    `**${series.label}**: ${n(series.connected)} members connected at ${n(series.connectsPerSec)}/s; best ${n(series.bestDeliveriesPerSec)} deliveries/s (${n(series.bestDeliveriesPerSecPerServer)} per server); stopped: ${series.stopReason}.`,
    '',
    '| sends/s | delivered/s | p50 ms | p95 ms | p99 ms | max ms | lost | ack p99 ms | errors | server CPU % |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const s of series.steps) {
    lines.push(`| ${n(s.sendsPerSec)}${s.attempts > 1 ? ' (2nd try)' : ''} | ${n(s.deliveriesPerSec)} | ${s.latency.p50} | ${s.latency.p95} | ${s.latency.p99} | ${s.latency.max} | ${n(s.lost)} | ${s.ackLatency.p99} | ${errors(s.errors)} | ${s.serverCpuPercent.join(' / ')} |`);
  }
  lines.push('');
  return lines;
}

/** The Markdown summary of one run, also the body of docs/benchmarks.md's figures. */
export function renderSummary(result: BenchResult, chartPath = 'fanout.svg'): string {
  const { idle, fanout, ack, persist, history } = result.scenarios;
  const m = result.machine;
  const lines: string[] = [
    `## Run ${result.runId} (${result.profile})`,
    '',
    `- Command: \`${result.command}\``,
    `- Started ${result.startedAt}, finished ${result.finishedAt}`,
    `- Machine: ${m.cpus} × ${m.cpuModel}, ${mib(m.memoryBytes)} memory, Linux ${m.kernel}, Node ${m.node}, open-file limit ${m.openFilesLimit} per process; load average ${m.loadAverage.start} at start, ${m.loadAverage.end} at end (${m.cpus} cores)`,
    '',
    '### Targets (reported, not asserted)',
    '',
    '| target | goal | measured | met |',
    '|---|---|---|---|',
    ...result.targets.map((t) => `| ${t.name} | ${t.goal} | ${t.measured} | ${t.met === null ? '–' : t.met ? 'yes' : 'no'} |`),
    '',
  ];
  if (result.failures.length > 0) {
    lines.push('### Scenarios that failed', '', ...result.failures.map((f) => `- ${f.scenario}: ${f.message}`), '');
  }
  if (fanout) {
    lines.push(
      '### 2. Fan-out',
      '',
      `${fanout.sessions} sessions × ${fanout.membersPerSession} members, members of every session spread over ${fanout.servers} servers; aggregate send rate stepped until p99 send-to-delivery passed ${fanout.p99LimitMs} ms or a message was lost. **Ours ÷ Socket.IO: ${fanout.ratio}×** (best deliveries/s at p99 ≤ ${fanout.p99LimitMs} ms, same run).`,
      '',
      `![latency against rate](${chartPath})`,
      '',
      ...fanoutTable(fanout.chat),
      ...fanoutTable(fanout.socketio),
    );
  }
  if (idle) {
    lines.push(
      '### 1. Idle connections',
      '',
      `${n(idle.opened)} of ${n(idle.requested)} opened (${n(idle.failed)} failed) from ${idle.loadGenerators} load generators in ${(idle.durationMs / 1000).toFixed(1)} s: **${n(idle.connectsPerSec)} connects/s**. ${idle.stopReason}.`,
      '',
      '| gateway | connections | RSS before | RSS after | RSS per connection | open-file limit |',
      '|---|---:|---:|---:|---:|---:|',
      ...idle.gateways.map((g) => `| ${g.url} | ${n(g.connections)} | ${mib(g.rssBeforeBytes)} | ${mib(g.rssAfterBytes)} | ${(g.rssPerConnectionBytes / KIB).toFixed(1)} KiB | ${g.openFilesLimit} |`),
      '',
    );
  }
  if (ack) {
    lines.push(
      '### 3. Send to ack (one gateway)',
      '',
      `${ack.connections} connections, one member per session. At ${n(ack.reference.sendsPerSec)} sends/s: p50 ${ack.reference.latency.p50} ms, p95 ${ack.reference.latency.p95} ms, **p99 ${ack.reference.latency.p99} ms**, max ${ack.reference.latency.max} ms. Sustained: **${n(ack.sustainedAckedPerSec)} acked sends/s**; stopped: ${ack.stopReason}.`,
      '',
      '| offered sends/s | acked/s | p50 ms | p95 ms | p99 ms | max ms | errors | gateway CPU % |',
      '|---:|---:|---:|---:|---:|---:|---|---:|',
      ...ack.steps.map((s) => `| ${n(s.sendsPerSec)}${s.attempts > 1 ? ' (2nd try)' : ''} | ${n(s.ackedPerSec)} | ${s.latency.p50} | ${s.latency.p95} | ${s.latency.p99} | ${s.latency.max} | ${errors(s.errors)} | ${s.gatewayCpuPercent} |`),
      '',
    );
  }
  if (persist) {
    lines.push(
      '### 4. Persist',
      '',
      `Backlog of ${n(persist.backlog)} messages (published at ${n(persist.publishPerSec)}/s) drained by one persister into PostgreSQL in ${(persist.drainMs / 1000).toFixed(1)} s from its start: **${n(persist.rowsPerSec)} rows/s** from readiness to the last row (persister CPU ${persist.persisterCpuPercent} %). Lag of ${n(persist.liveMessages)} messages published after the drain: p50 ${persist.lag.p50} ms, p99 ${persist.lag.p99} ms, max ${persist.lag.max} ms.`,
      '',
    );
  }
  if (history) {
    lines.push(
      '### 5. History reads',
      '',
      `${n(history.rows)} rows seeded in ${(history.seedMs / 1000).toFixed(1)} s; ${n(history.requests)} GETs of ${history.pageSize} messages at concurrency ${history.concurrency}: ${n(history.requestsPerSec)} req/s, p50 ${history.latency.p50} ms, p95 ${history.latency.p95} ms, **p99 ${history.latency.p99} ms**, max ${history.latency.max} ms; errors ${errors(history.errors)}.`,
      '',
    );
  }
  return lines.join('\n');
}
