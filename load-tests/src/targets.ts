import type { BenchResult, TargetCheck } from './result.ts';

const KIB = 1024;

function check(name: string, goal: string, value: number | undefined, passes: (v: number) => boolean, format: (v: number) => string): TargetCheck {
  if (value === undefined || !Number.isFinite(value)) return { name, goal, measured: 'not measured', met: null };
  return { name, goal, measured: format(value), met: passes(value) };
}

const int = (v: number) => Math.round(v).toLocaleString('en-US');
const ms = (v: number) => `${v} ms`;

/** The and the seed's targets, set against this run's figures; reported, never asserted. */
export function evaluateTargets(result: Pick<BenchResult, 'scenarios'>): TargetCheck[] {
  const { idle, fanout, ack, persist, history } = result.scenarios;
  const busiestGateway = idle ? Math.max(0, ...idle.gateways.map((g) => g.connections)) : undefined;
  const rssPerConn = idle ? Math.max(0, ...idle.gateways.map((g) => g.rssPerConnectionBytes)) : undefined;
  // The seed's targets are read at the search's first (lightest) step: a modest, steady load.
  const first = fanout?.chat.steps[0];
  const seedErrors = first ? (100 * (first.sent - first.acked + first.lost)) / Math.max(1, first.sent + first.expectedDeliveries) : undefined;
  return [
    check('fan-out vs Socket.IO', '≥ 3× deliveries/s at p99 < 100 ms', fanout?.ratio, (v) => v >= 3, (v) => `${v}×`),
    check('fan-out per gateway', '≥ 100,000 deliveries/s', fanout?.chat.bestDeliveriesPerSecPerServer, (v) => v >= 100_000, int),
    check('idle connections on one gateway', '50,000', busiestGateway, (v) => v >= 50_000, int),
    check('idle memory per connection', '≤ 8 KiB RSS', rssPerConn, (v) => v <= 8 * KIB, (v) => `${(v / KIB).toFixed(1)} KiB`),
    check('ack p99 at 1,000 sends/s', '< 10 ms', ack?.reference.sendsPerSec === 1000 ? ack.reference.latency.p99 : undefined, (v) => v < 10, ms),
    check('acked sends/s per gateway', '≥ 20,000', ack?.sustainedAckedPerSec, (v) => v >= 20_000, int),
    check('persist rows/s (one persister)', '≥ 50,000', persist?.rowsPerSec, (v) => v >= 50_000, int),
    check('persist lag after drain (max)', '< 1 s', persist?.lag.max, (v) => v < 1000, ms),
    check('history p99, page of 50 on 1,000,000 rows', '< 20 ms', history && history.rows >= 1_000_000 ? history.latency.p99 : undefined, (v) => v < 20, ms),
    check('seed: message latency p95 (first fan-out step)', '< 100 ms', first?.latency.p95, (v) => v < 100, ms),
    check('seed: errors (first fan-out step)', '< 1 %', seedErrors, (v) => v < 1, (v) => `${v.toFixed(3)} %`),
  ];
}
