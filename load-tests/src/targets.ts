import type { BenchResult, TargetCheck } from './result.ts';

const KIB = 1024;

function check(name: string, goal: string, value: number | undefined, passes: (v: number) => boolean, format: (v: number) => string): TargetCheck {
  if (value === undefined || !Number.isFinite(value)) return { name, goal, measured: 'not measured', met: null };
  return { name, goal, measured: format(value), met: passes(value) };
}

const int = (v: number) => Math.round(v).toLocaleString('en-US');
const ms = (v: number) => `${v} ms`;

const us = (v: number) => `${v} µs`;

/** The performance goals and the seed's, set against this run's figures; reported, never asserted. */
export function evaluateTargets(result: Pick<BenchResult, 'scenarios'>): TargetCheck[] {
  const { idle, fanout, ack, persist, history, steady } = result.scenarios;
  const busiest = idle ? [...idle.gateways].sort((a, b) => b.connections - a.connections)[0] : undefined;
  const ours = steady?.runs.find((run) => run.target === 'chat-persisted');
  const relay = steady?.runs.find((run) => run.target === 'relay');
  // The seed's targets are read at the search's first (lightest) step: a modest, steady load.
  const first = fanout?.chatPersisted.steps[0];
  const seedErrors = first ? (100 * (first.sent - first.acked + first.lost)) / Math.max(1, first.sent + first.expectedDeliveries) : undefined;
  const gatewayVsRelay = ours && relay && relay.gatewayUsPerDelivery > 0 ? ours.gatewayUsPerDelivery / relay.gatewayUsPerDelivery : undefined;
  return [
    check('fan-out vs Socket.IO, persister running', '≥ 1.5× deliveries/s at p99 < 100 ms', fanout?.ratioPersisted, (v) => v >= 1.5, (v) => `${v}×`),
    check('fan-out vs Socket.IO, persister stopped', '≥ 2.5× deliveries/s at p99 < 100 ms', fanout?.ratio, (v) => v >= 2.5, (v) => `${v}×`),
    check('p99 send → delivery at 1,000 sends/s × 10 members, persister running', '≤ 10 ms', steady?.sendsPerSec === 1000 ? ours?.step.latency.p99 : undefined, (v) => v <= 10, ms),
    check('CPU per message in persister + NATS + PostgreSQL at 1,000 sends/s', '≤ 100 µs', steady?.sendsPerSec === 1000 ? (ours?.durableUsPerMessage ?? undefined) : undefined, (v) => v <= 100, us),
    check(
      'gateway CPU per delivery',
      '≤ the bare relay’s',
      relay ? ours?.gatewayUsPerDelivery : undefined,
      (v) => v <= (relay?.gatewayUsPerDelivery ?? 0),
      (v) => `${v} µs vs ${relay?.gatewayUsPerDelivery ?? 0} µs${gatewayVsRelay === undefined ? '' : ` (${gatewayVsRelay.toFixed(2)}×)`}`,
    ),
    check(
      'idle RSS per connection, one gateway, 15,000 connections',
      '≤ 8 KiB',
      busiest && busiest.connections >= 15_000 ? busiest.rssPerConnectionBytes : undefined,
      (v) => v <= 8 * KIB,
      (v) => `${(v / KIB).toFixed(1)} KiB`,
    ),
    check('connections accepted per second, one gateway', '≥ 3,000', idle?.gateways.length === 1 ? idle.connectsPerSec : undefined, (v) => v >= 3000, int),
    check('acked sends/s per gateway at p99 < 100 ms', '≥ 10,000', ack?.sustainedAckedPerSec, (v) => v >= 10_000, int),
    check('persister rows/s, one persister, 500,000 backlog', '≥ 50,000', persist && persist.backlog >= 500_000 ? persist.rowsPerSec : undefined, (v) => v >= 50_000, int),
    check('history p99, 50 of 1,000,000 rows', '< 15 ms', history && history.rows >= 1_000_000 ? history.latency.p99 : undefined, (v) => v < 15, ms),
    check('persist lag after drain (max)', '< 1 s', persist?.lag.max, (v) => v < 1000, ms),
    check('seed: message latency p95 (first fan-out step, persister running)', '< 100 ms', first?.latency.p95, (v) => v < 100, ms),
    check('seed: errors (first fan-out step, persister running)', '< 1 %', seedErrors, (v) => v < 1, (v) => `${v.toFixed(3)} %`),
  ];
}
