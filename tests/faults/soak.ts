import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultStack } from './fault-stack.ts';
import { sleep } from './managed-process.ts';
import type { Tally } from './outcome-check.ts';
import { replaceSection, SOAK_BEGIN, SOAK_END } from './reliability-doc.ts';
import { renderSoakChart } from './soak-chart.ts';
import { sampleProcess, type ProcessSample } from './soak-sampler.ts';
import type { AloneOutcome, OpenedFleet } from './fleet-worker.ts';
import { FleetWorker } from './fleet-workers.ts';

export interface SoakOptions {
  repoRoot: string;
  portBase: number;
  minutes: number;
  /** WebSocket clients in all, over two gateways; a few thousand by default. */
  connections?: number;
  writeDocs: boolean;
  log: (line: string) => void;
}

const SAMPLE_EVERY_MS = 10_000;
const CLIENTS_PER_WORKER = 4_000;
const MEMBERS_PER_SESSION = 10;
/** Clients per source address: under the gateways' default cap per IP (MAX_CONNECTIONS_PER_IP, 1000), which stays on. */
const CLIENTS_PER_ADDRESS = 800;

/**
 * Steady traffic on as many connections as asked for, over two gateways, for `minutes`; RSS, heap,
 * event-loop delay and open handles of every service sampled every 10 s. Writes the plot.
 */
export async function runSoak(options: SoakOptions): Promise<boolean> {
  const { log } = options;
  const connections = options.connections ?? 4_000;
  const stack = new FaultStack({ repoRoot: options.repoRoot, portBase: options.portBase, env: { LOG_LEVEL: 'error' } });
  const workers: FleetWorker[] = [];
  const series = new Map<string, ProcessSample[]>(stack.services.map((service) => [service.name, []]));
  try {
    await stack.start();
    log(`stack ready in ${stack.dir}`);
    const workerCount = Math.max(2, Math.ceil(connections / CLIENTS_PER_WORKER));
    const perWorker = Math.ceil(connections / workerCount);
    for (let i = 0; i < workerCount; i++) workers.push(new FleetWorker({ execArgv: ['--max-old-space-size=4096'] }));
    const opened = await Promise.all(
      workers.map((worker, i) =>
        worker.request<OpenedFleet>({
          kind: 'open',
          fleet: {
            apiUrl: stack.api.url,
            gatewayUrls: stack.gateways.map((gateway) => gateway.wsUrl),
            secret: stack.secret,
            sessions: Math.max(1, Math.round(perWorker / MEMBERS_PER_SESSION)),
            membersPerSession: MEMBERS_PER_SESSION,
            // Each worker its own source addresses: one address has only ~28k ephemeral ports per server,
            // and each gateway admits at most its per-IP cap from one address.
            localAddresses: sourceAddresses(i, perWorker),
          },
        }),
      ),
    );
    const clients = opened.reduce((sum, part) => sum + part.members.length, 0);
    log(`${clients} clients connected`);
    const perSecond = Math.max(20, Math.round(clients / 20));
    await Promise.all(workers.map((worker) => worker.request({ kind: 'traffic', phase: 0, perSecond: perSecond / workers.length })));
    const started = performance.now();
    const endAt = started + options.minutes * 60_000;
    while (performance.now() < endAt) {
      const t = Math.round((performance.now() - started) / 1000);
      for (const service of stack.services) {
        const pid = service.process.pid;
        if (pid === undefined) continue;
        const metricsUrl = `${service.url}/metrics`;
        series.get(service.name)?.push(await sampleProcess(pid, metricsUrl, t));
      }
      const gw = series.get('gateway-a')?.at(-1);
      log(`t=${t}s gateway-a rss ${gw?.rssMb} MB heap ${gw?.heapMb} MB loop p99 ${gw?.loopP99Ms} ms fds ${gw?.openHandles}`);
      await sleep(Math.min(SAMPLE_EVERY_MS, Math.max(0, endAt - performance.now())));
    }
    const results = await Promise.all(workers.map((worker) => worker.request<AloneOutcome>({ kind: 'check-alone', databaseUrl: stack.postgres.url })));
    const summary = summarize(results);
    const passed = summary.lost === 0 && summary.doubled === 0 && summary.holes === 0 && summary.viewHoles === 0 && summary.finalCloses === 0 && summary.unacked === 0;
    const title = `Soak: ${clients} connections on two gateways, ${perSecond} sends/s, ${options.minutes} min`;
    const section = renderSoakSection(title, summary, series, passed, `pnpm faults --soak ${options.minutes}${options.connections ? ` --connections ${options.connections}` : ''}`);
    log(section);
    mkdirSync(join(options.repoRoot, 'bench-results'), { recursive: true });
    writeFileSync(join(options.repoRoot, 'bench-results', 'soak.json'), JSON.stringify({ title, summary, series: Object.fromEntries(series) }, null, 2));
    if (options.writeDocs) {
      writeFileSync(join(options.repoRoot, 'docs', 'reliability-soak.svg'), renderSoakChart(series, title));
      replaceSection(join(options.repoRoot, 'docs', 'reliability.md'), SOAK_BEGIN, SOAK_END, section);
    }
    return passed;
  } finally {
    for (const worker of workers) worker.stop();
    await stack.stop();
  }
}

type SoakSummary = Omit<Tally, 'sent'> & { sent: number; clients: number; disconnects: number; finalCloses: number };

function summarize(results: readonly AloneOutcome[]): SoakSummary {
  const sum = (pick: (r: AloneOutcome) => number) => results.reduce((total, r) => total + pick(r), 0);
  return {
    clients: sum((r) => r.clients),
    disconnects: sum((r) => r.disconnects),
    finalCloses: sum((r) => r.finalCloses),
    sent: sum((r) => r.tally.sent),
    acked: sum((r) => r.tally.acked),
    ackedAfterUnavailable: sum((r) => r.tally.ackedAfterUnavailable),
    unacked: sum((r) => r.tally.unacked),
    stored: sum((r) => r.tally.stored),
    lost: sum((r) => r.tally.lost),
    doubled: sum((r) => r.tally.doubled),
    holes: sum((r) => r.tally.holes),
    strangers: sum((r) => r.tally.strangers),
    viewHoles: sum((r) => r.tally.viewHoles),
    viewDoubled: sum((r) => r.tally.viewDoubled),
    viewMismatched: sum((r) => r.tally.viewMismatched),
  };
}

/** Growth of the mean between the second quarter (after warm-up) and the last quarter, in percent. */
function growth(samples: readonly ProcessSample[], key: 'rssMb' | 'heapMb' | 'openHandles'): string {
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const mean = (part: readonly ProcessSample[]) => part.reduce((s, x) => s + (x[key] ?? 0), 0) / Math.max(1, part.length);
  const early = mean(samples.slice(quarter, 2 * quarter));
  const late = mean(samples.slice(-quarter));
  return early > 0 ? `${(((late - early) / early) * 100).toFixed(1)} %` : '—';
}

function renderSoakSection(title: string, s: SoakSummary, series: ReadonlyMap<string, readonly ProcessSample[]>, passed: boolean, command: string): string {
  const lines = [
    `Last run: ${new Date().toISOString()}, \`${command}\`. ${title}. Outcome: ${passed ? 'pass' : '**FAIL**'}.`,
    '',
    `${s.clients} clients, ${s.acked} sends acked of ${s.sent}, ${s.stored} stored, ${s.lost} lost, ${s.doubled} doubled, ${s.holes} holes; ` +
      `${s.viewHoles} seqs missing from views, ${s.viewDoubled} doubled in views; ${s.disconnects} disconnects, ${s.finalCloses} final closes.`,
    '',
    '![Soak: RSS, heap, event-loop delay and open handles of every service](reliability-soak.svg)',
    '',
    '| service | RSS first → last (MB) | RSS growth after warm-up | heap first → last (MB) | heap growth | event-loop p99 max (ms) | open handles first → last |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const [name, samples] of series) {
    const first = samples[0];
    const last = samples.at(-1);
    if (!first || !last) continue;
    const loopMax = Math.max(0, ...samples.map((x) => x.loopP99Ms ?? 0));
    lines.push(`| ${name} | ${first.rssMb} → ${last.rssMb} | ${growth(samples, 'rssMb')} | ${first.heapMb ?? '—'} → ${last.heapMb ?? '—'} | ${growth(samples, 'heapMb')} | ${loopMax} | ${first.openHandles} → ${last.openHandles} |`);
  }
  return lines.join('\n');
}

/** Worker `worker`'s source addresses (127.0.<worker+1>.<n>): enough that none carries more than CLIENTS_PER_ADDRESS clients. */
export function sourceAddresses(worker: number, clients: number): string[] {
  const count = Math.max(2, Math.ceil(clients / CLIENTS_PER_ADDRESS));
  return Array.from({ length: count }, (_, n) => `127.0.${String(worker + 1)}.${String(n + 1)}`);
}
