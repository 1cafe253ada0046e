import type { BenchResult } from '../result.ts';
import { renderSummary } from './summary.ts';

export const DOCS_CHART = 'benchmarks-fanout.svg';

/** docs/benchmarks.md: how the figures are made, then the latest run's figures. */
export function renderDocsPage(result: BenchResult): string {
  return `# Benchmarks

The figures below come from \`pnpm bench\` on one machine, generated from the run's JSON
(\`bench-results/<run>/result.json\`); regenerate this page with
\`node load-tests/src/cli.ts --render bench-results/<run>/result.json\`.
Targets are reported, never asserted: a slower run still produces a page.

## How to run

| command | what it does | time |
|---|---|---|
| \`pnpm bench\` | every scenario at full size, then writes this page and its chart | ~15 min |
| \`pnpm bench --only=fanout,ack\` | some scenarios only (\`idle\`, \`fanout\`, \`ack\`, \`persist\`, \`history\`); leaves this page alone | |
| \`pnpm bench --idle-target=20000 --persist-backlog=100000 --history-rows=200000\` | other sizes; leaves this page alone | |
| \`pnpm bench:smoke\` | every scenario at toy size (what the test suite runs) | ~1 min |
| \`pnpm test:unit load-tests\` | the smoke run as a test, plus the k6 type-check | |

It needs PostgreSQL, Redis and NATS JetStream on their standard local ports (as the
integration tests do; \`BENCH_DATABASE_URL\`, \`BENCH_REDIS_URL\`, \`BENCH_NATS_URL\` override
them). It uses its own database \`chat_bench\` (created and migrated on start) and, per
scenario, its own JetStream stream, subjects and durable consumer
(\`BENCH_<run>_<scenario>\`), deleted at the end, so it never disturbs the tests or another run.
Each run writes \`result.json\`, \`summary.md\`, \`fanout.svg\` and the servers' logs under
\`bench-results/<run>/\`.

## Method

- **Processes.** The runner starts the servers itself as separate processes
  (\`node services/gateway/src/main.ts\` and the others, configured by environment
  variables; rate limits lifted so capacity, not policy, is measured) and drives them
  from separate load-generator processes (\`ws\` clients, open-loop senders) that report
  HDR histograms (\`hdr-histogram-js\`, 1 µs resolution) to the coordinator. All traffic
  is on 127.0.0.x; every loop is bounded by a count and a deadline.
- **Latency** is measured from the send call to the frame's arrival at each receiver; the
  send time travels in the message body, so any load generator can time a delivery sent
  by another (one machine, one clock).
- **Idle.** N connections across the gateways, ramped with bounded concurrency until N or
  a limit; RSS per connection is (RSS after − RSS before) ÷ connections of that gateway.
  Limits found here: 20,000 open files per process (hard limit, cannot be raised), so a
  gateway holds < 20,000 sockets and the load is spread over three gateways and several
  generators; source addresses rotate over 127.0.0.1–4 because one address gives ~28,000
  ephemeral ports towards one server port.
- **Fan-out.** S sessions × M members; each session has members on both replicas and on
  every load generator; the aggregate send rate steps up until p99 send-to-delivery passes
  100 ms or a message is lost (expected deliveries = acked sends × connected members).
  Each series starts with an unrecorded warm-up; a step that fails is repeated once
  before the search ends, so a burst of unrelated work does not decide the figure.
  "Per gateway" is the best rate ÷ 2. Gateway CPU (% of one core) is read from /proc. The persister is not running during this scenario (it is
  measured on its own in *persist*); acks still wait for JetStream.
- **Baseline.** The same scenario, same clients, counts and message shape against two
  Socket.IO 4.8 nodes with \`@socket.io/redis-adapter\` (its documented multi-node setup,
  WebSocket transport only). The baseline verifies the JWT on connect, stamps id, seq and
  timestamp, broadcasts to the room and acknowledges; it keeps no durable copy and checks
  no membership, which favours it. The ratio is ours ÷ theirs from the same run.
- **Ack.** One gateway, one member per session, so the figure is the write path
  (validate, reserve seq in Redis, JetStream PubAck, ack); stepped until fewer than 99 % of
  sends are acked or p99 passes 100 ms.
- **Persist.** ≥ 500,000 messages published with the project's \`JetStreamQueue\` into the
  run's stream, then one persister is started and timed until its durable consumer's
  ack floor reaches the last message (it acknowledges after the insert commits; the rows
  are counted afterwards, so the watcher adds no load to PostgreSQL while it drains).
  Rows/s counts from the persister's readiness. The lag is publish-to-row-visible for
  messages published at a steady rate after the drain.
- **History.** One session of 1,000,000 rows seeded with one
  \`INSERT … SELECT generate_series\`, read through \`GET /api/chat/history\` with random
  \`before\` cursors (one in ten the latest page), closed loop.
- **Everything shares two cores**: gateways, session-api, persister, Redis, NATS,
  PostgreSQL and the load generators. Figures are a floor for what one gateway does on
  its own cores. Each run records the 1-minute load average at its start and end: when it
  is well above the core count, other work was competing for the CPU and the figures
  (above all the tail latencies) say more about the machine than about the system.

## k6

\`load-tests/k6/\` holds k6 scripts in the \`k6/websockets\` API for running against a
deployment from another machine (a ramp to thousands of connections across sessions,
fan-out with a send-to-delivery Trend, REST history reads, thresholds p95 < 100 ms and
errors < 1 %). k6 cannot be installed here; the test suite type-checks them against
\`@types/k6\`. See \`load-tests/k6/README.md\`.

## Latest figures

${renderSummary(result, DOCS_CHART).replace(/^## /m, '### ').replace(/^### (\d\.|Targets|Scenarios)/gm, '#### $1')}
`;
}
