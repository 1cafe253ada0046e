import type { BenchResult, FanoutSeries, GatewayMemory, SteadyResult, SteadyRun } from '../result.ts';
import { describeDurability } from '../servers/own-infra.ts';

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

const perTier = (run: SteadyRun | undefined, tiers: readonly string[]) =>
  run ? tiers.filter((tier) => run.usPerMessage[tier] !== undefined).map((tier) => `${tier} ${run.usPerMessage[tier]} µs`).join(', ') : '–';

/** The figures of the goals, one column per target, as the comparison that asked for them lays them out. */
function sideBySide(result: BenchResult): string[] {
  const { fanout, steady, idle } = result.scenarios;
  const run = (target: string) => steady?.runs.find((r) => r.target === target);
  const best = (series: FanoutSeries | undefined) => (series ? n(series.bestDeliveriesPerSec) : '–');
  const rate = steady ? `${n(steady.sendsPerSec)} sends/s × ${steady.membersPerSession} members` : 'a steady rate';
  const rows = [
    ['fan-out deliveries/s at p99 < 100 ms, persister running', best(fanout?.chatPersisted), best(fanout?.socketio), best(fanout?.relay)],
    ['fan-out deliveries/s at p99 < 100 ms, persister stopped', best(fanout?.chat), '', ''],
    [`p99 send → delivery at ${rate}`, ...['chat-persisted', 'socketio', 'relay'].map((t) => (run(t) ? `${run(t)?.step.latency.p99} ms` : '–'))],
    [`gateway CPU per delivery at ${rate}`, ...['chat-persisted', 'socketio', 'relay'].map((t) => (run(t) ? `${run(t)?.gatewayUsPerDelivery} µs` : '–'))],
    [`CPU per message outside the gateways at ${rate}`, ...['chat-persisted', 'socketio', 'relay'].map((t) => perTier(run(t), ['persister', 'nats', 'postgres', 'redis']))],
    ['idle RSS per connection, one gateway', idle?.gateways[0] ? idleMemory(idle.gateways[0]) : '–', '', ''],
    ['connections accepted per second', idle ? `${n(idle.connectsPerSec)} (one gateway, idle ramp)` : '–', fanout ? `${n(fanout.socketio.connectsPerSec)} (two nodes, fan-out seating)` : '–', fanout ? `${n(fanout.relay.connectsPerSec)} (two nodes, fan-out seating)` : '–'],
  ];
  return ['| figure | this system | Socket.IO 4 + redis-adapter | bare `ws` + `ioredis` relay |', '|---|---|---|---|', ...rows.map((row) => `| ${row.join(' | ')} |`), ''];
}

function steadyTables(steady: SteadyResult): string[] {
  const row = (r: SteadyRun) =>
    `| ${r.label}${r.durability ? ` (${describeDurability(r.durability)})` : ''} | ${n(r.step.acked)} | ${n(r.step.delivered)} | ${r.step.latency.p50} | ${r.step.latency.p99} | ${r.step.ackLatency.p99} | ${r.gatewayUsPerDelivery} | ${['persister', 'nats', 'postgres', 'redis'].map((t) => r.usPerMessage[t] ?? '–').join(' | ')} | ${r.durableUsPerMessage ?? '–'} | ${(r.windowMs / 1000).toFixed(1)} |`;
  const header = [
    '| target | acked | delivered | p50 ms | p99 ms | ack p99 ms | gateway µs/delivery | persister µs/msg | NATS µs/msg | PostgreSQL µs/msg | Redis µs/msg | persister + NATS + PostgreSQL µs/msg | CPU window s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const ours = steady.runs.find((r) => r.target === 'chat-persisted');
  return [
    `${steady.sessions} sessions × ${steady.membersPerSession} members over ${steady.servers} servers, ${n(steady.sendsPerSec)} sends/s for ${(steady.stepMs / 1000).toFixed(0)} s after a warm-up, on a Redis, NATS and PostgreSQL started for this scenario alone. CPU is utime + stime from /proc of each process over the window from the first send until the persister has written the last message: the gateways (or the baseline's nodes), the persister, redis-server, nats-server (all three for R3) and the PostgreSQL cluster's whole process tree (postmaster, backends, WAL writer, checkpointer, autovacuum, including backends that ended in the window). Per message is divided by acked sends; per delivery by deliveries.`,
    '',
    ...header,
    ...steady.runs.map(row),
    '',
    '**Durability cost** (ours, same load; the first row is the default):',
    '',
    ...header,
    ...(ours ? [row(ours)] : []),
    ...steady.durability.map(row),
    '',
    ...stageTables([...steady.runs, ...steady.durability]),
  ];
}

/** Where our sends spent their time, from the gateways' own histograms: a tail shared by every stage is the process's or the machine's. */
function stageTables(runs: readonly SteadyRun[]): string[] {
  const measured = runs.filter((r) => r.gatewayStages);
  if (measured.length === 0) return [];
  const lines = ['**Where the time of a send went** (ours, the gateways\' own histograms over the window; counts over 10 and 25 ms are exact, the p99 is the upper bound of its bucket):', ''];
  for (const r of measured) {
    const stages = r.gatewayStages;
    if (!stages) continue;
    const loop = stages.eventLoop ? `; event-loop delay p99 ${stages.eventLoop.p99Ms} ms, max ${stages.eventLoop.maxMs} ms (worst gateway)` : '';
    lines.push(`${r.label}${r.durability ? ` (${describeDurability(r.durability)})` : ''}${loop}:`, '', '| stage | count | over 10 ms | over 25 ms | p99 at most ms |', '|---|---:|---:|---:|---:|');
    for (const s of stages.stages) lines.push(`| ${s.stage} | ${n(s.count)} | ${n(s.over10ms)} | ${n(s.over25ms)} | ${s.p99AtMostMs === null ? '–' : String(s.p99AtMostMs)} |`);
    lines.push('');
  }
  return lines;
}

function minutes(result: BenchResult): string {
  return ((Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 60_000).toFixed(1);
}

/** The Markdown summary of one run, also the body of docs/benchmarks.md's figures. */
export function renderSummary(result: BenchResult, chartPath = 'fanout.svg'): string {
  const { idle, fanout, ack, persist, history, steady } = result.scenarios;
  const m = result.machine;
  const lines: string[] = [
    `## Run ${result.runId} (${result.profile})`,
    '',
    `- Command: \`${result.command}\``,
    `- Started ${result.startedAt}, finished ${result.finishedAt}`,
    `- Machine: ${m.cpus} × ${m.cpuModel}, ${mib(m.memoryBytes)} memory, Linux ${m.kernel}, Node ${m.node}, open-file limit ${m.openFilesLimit} per process; load average ${m.loadAverage.start} at start, ${m.loadAverage.end} at end (${m.cpus} cores)`,
    `- Took ${minutes(result)} min`,
    ...(Math.max(m.loadAverage.start, m.loadAverage.end) > m.cpus
      ? [
          `- **Caveat: other work shared the machine.** A load average of ${Math.max(m.loadAverage.start, m.loadAverage.end)} on ${m.cpus} cores means other processes were waiting for the CPU beside the benchmark's own. Every target's servers ran under the same competition, so the ratios between them say more than the absolute figures; tail latencies and rates are far below what the same code does on a quiet machine, and CPU time per message includes the cost of being preempted (cache misses, context switches).`,
        ]
      : []),
    '',
    '### Targets (reported, not asserted)',
    '',
    '| target | goal | measured | met |',
    '|---|---|---|---|',
    ...result.targets.map((t) => `| ${t.name} | ${t.goal} | ${t.measured} | ${t.met === null ? '–' : t.met ? 'met' : 'not met'} |`),
    '',
    '### Side by side',
    '',
    ...sideBySide(result),
  ];
  if (result.failures.length > 0) {
    lines.push('### Scenarios that failed', '', ...result.failures.map((f) => `- ${f.scenario}: ${f.message}`), '');
  }
  if (fanout) {
    lines.push(
      '### 2. Fan-out',
      '',
      `${fanout.sessions} sessions × ${fanout.membersPerSession} members, members of every session spread over ${fanout.servers} servers; aggregate send rate stepped until p99 send-to-delivery passed ${fanout.p99LimitMs} ms or a message was lost. **Ours ÷ Socket.IO: ${fanout.ratioPersisted}× with the persister running, ${fanout.ratio}× with it stopped** (best deliveries/s at p99 ≤ ${fanout.p99LimitMs} ms, same run).`,
      '',
      `![latency against rate](${chartPath})`,
      '',
      ...fanoutTable(fanout.chatPersisted),
      ...fanoutTable(fanout.chat),
      ...fanoutTable(fanout.socketio),
      ...fanoutTable(fanout.relay),
    );
  }
  if (steady) lines.push('### 6. Steady rate: latency and CPU per process', '', ...steadyTables(steady));
  if (idle) {
    lines.push(
      '### 1. Idle connections',
      '',
      `${n(idle.opened)} of ${n(idle.requested)} opened (${n(idle.failed)} failed) from ${idle.loadGenerators} load generators in ${(idle.durationMs / 1000).toFixed(1)} s: **${n(idle.connectsPerSec)} connects/s**. ${idle.stopReason}.`,
      '',
      '| gateway | connections | RSS before | RSS after | RSS per connection | held idle: RSS | held idle: per connection | open-file limit |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...idle.gateways.map(
        (g) =>
          `| ${g.url} | ${n(g.connections)} | ${mib(g.rssBeforeBytes)} | ${mib(g.rssAfterBytes)} | ${(g.rssPerConnectionBytes / KIB).toFixed(1)} KiB | ${g.rssHeldBytes === undefined ? '–' : mib(g.rssHeldBytes)} | ${g.rssPerConnectionHeldBytes === undefined ? '–' : `${(g.rssPerConnectionHeldBytes / KIB).toFixed(1)} KiB`} | ${g.openFilesLimit} |`,
      ),
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
      `${n(history.rows)} rows seeded in ${(history.seedMs / 1000).toFixed(1)} s; ${n(history.requests)} GETs of ${history.pageSize} messages at concurrency ${history.concurrency}: ${n(history.requestsPerSec)} req/s, p50 ${history.latency.p50} ms, p95 ${history.latency.p95} ms, **p99 ${history.latency.p99} ms**, max ${history.latency.max} ms; session-api CPU ${history.apiUsPerPage} µs per page${history.generatorUsPerPage === undefined ? '' : ` (load generator ${history.generatorUsPerPage} µs)`}; errors ${errors(history.errors)}.`,
      '',
    );
  }
  return lines.join('\n');
}

/** Right after the ramp, and after the hold when the run had one. */
function idleMemory(g: GatewayMemory): string {
  const held = g.rssPerConnectionHeldBytes === undefined ? '' : ` (${(g.rssPerConnectionHeldBytes / KIB).toFixed(1)} KiB held idle)`;
  return `${(g.rssPerConnectionBytes / KIB).toFixed(1)} KiB at ${n(g.connections)}${held}`;
}
