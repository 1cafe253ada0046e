import type { BenchResult } from '../result.ts';
import { renderSummary } from './summary.ts';

export const DOCS_CHART = 'benchmarks-fanout.svg';

/** Sections of the page written by hand, kept when the page is generated again. */
const KEPT_SECTIONS = ['What each change bought'];

/** The hand-written sections of the current page, each from its heading to the next level-2 heading. */
export function keptSections(currentPage: string): string {
  const kept: string[] = [];
  for (const title of KEPT_SECTIONS) {
    const start = currentPage.indexOf(`\n## ${title}`);
    if (start < 0) continue;
    const next = currentPage.indexOf('\n## ', start + 1);
    kept.push(currentPage.slice(start + 1, next < 0 ? undefined : next + 1).trimEnd() + '\n\n');
  }
  return kept.join('');
}

/** docs/benchmarks.md: how the figures are made, the sections kept from the current page, then the latest run's figures. */
export function renderDocsPage(result: BenchResult, currentPage = ''): string {
  return `# Benchmarks

The figures below come from \`pnpm bench\` on one machine, generated from the run's JSON
(\`bench-results/<run>/result.json\`); regenerate this page with
\`node load-tests/src/cli.ts --render bench-results/<run>/result.json\`.
Targets are reported, never asserted: a slower run still produces a page.

## How to run

| command | what it does | time |
|---|---|---|
| \`pnpm bench\` | every scenario at full size, then writes this page and its chart | ~25 min |
| \`pnpm bench --only=fanout,steady\` | some scenarios only (\`idle\`, \`fanout\`, \`steady\`, \`ack\`, \`persist\`, \`history\`); leaves this page alone | |
| \`pnpm bench --idle-target=12000 --persist-backlog=100000 --history-rows=200000\` | other sizes; leaves this page alone | |
| \`pnpm bench --only=steady --steady-targets=chat-persisted --durability=default\` | *steady* for some targets only, without the runs under other durability settings (a quick before/after); leaves this page alone | ~2 min |
| \`pnpm bench:smoke\` | every scenario at toy size (what the test suite runs) | ~2 min |
| \`pnpm test:unit load-tests\` | the smoke run as a test, plus the k6 type-check | |

It needs PostgreSQL, Redis and NATS JetStream on their standard local ports (as the
integration tests do; \`BENCH_DATABASE_URL\`, \`BENCH_REDIS_URL\`, \`BENCH_NATS_URL\` override
them). It uses Redis's database 1, not the tests' 0 (its connections' leases under the per-address caps would
otherwise refuse the tests' connections), its own PostgreSQL database \`chat_bench\` (created and migrated on start) and, per
scenario, its own JetStream stream, subjects and durable consumer
(\`BENCH_<run>_<scenario>\`), deleted at the end, so it never disturbs the tests or another run.
The *steady* scenario starts a Redis, a NATS (one server, or three for R3) and a PostgreSQL
cluster (\`initdb\` in a temporary folder) of its own, so the CPU they use is the run's alone; it
needs \`redis-server\`, \`nats-server\` and PostgreSQL's \`initdb\`/\`postgres\` installed
(\`REDIS_SERVER_BIN\`, \`NATS_SERVER_BIN\`, \`PG_BIN\` override where). \`BENCH_PORTS=39000-39999\`
keeps every server the run starts inside that port range; without it the OS picks free ports.
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
- **Idle.** 15,000 connections to one gateway from two load generators (7,500 each),
  ramped with 64 in flight per generator; RSS per connection is (RSS after − RSS before) ÷
  connections, read 3 s after the ramp (the figure the target is judged on) and again after the
  connections were held idle for 30 s more ("held idle": V8 keeps the young generation it grew for
  the ramp until a collection finds the process allocating little), and the connect rate is connections accepted per second by that one gateway
  (JWT check, membership check, welcome). Limits found here: 20,000 open files per process
  (hard limit, cannot be raised), so one gateway holds < 20,000 sockets and the clients are
  spread over processes; source addresses rotate over 127.0.0.1–4 because one address gives
  ~28,000 ephemeral ports towards one server port.
- **Fan-out.** S sessions × M members; each session has members on both replicas and on
  every load generator; the aggregate send rate steps up until p99 send-to-delivery passes
  100 ms or a message is lost (expected deliveries = acked sends × connected members).
  Each series starts with an unrecorded warm-up; a step that fails is repeated once
  before the search ends, so a burst of unrelated work does not decide the figure.
  "Per gateway" is the best rate ÷ 2. Gateway CPU (% of one core) is read from /proc. Our
  system runs twice: with the persister running (how it runs in production: it competes for
  the CPU and writes every message to PostgreSQL) and with it stopped (acks still wait for
  JetStream).
- **Baseline.** The same scenario, same clients, counts and message shape against two
  Socket.IO 4.8 nodes with \`@socket.io/redis-adapter\` (its documented multi-node setup,
  WebSocket transport only). The baseline verifies the JWT on connect, stamps id, seq and
  timestamp, broadcasts to the room and acknowledges; it keeps no durable copy and checks
  no membership, which favours it. The ratio is ours ÷ theirs from the same run.
- **Bare relay.** The floor, as a third target in the same scenario: two \`ws\` + \`ioredis\`
  processes (\`load-tests/src/servers/relay-node.ts\`) that verify the JWT, join the room
  (one Redis channel per session), stamp id, seq and timestamp, publish the frame to Redis
  once, write the published bytes as they are to each local socket of the room and ack after
  Redis has the message. It speaks the gateway's frames, so the same clients drive it.
- **Steady.** Each target at 1,000 sends/s into 100 sessions × 10 members over two servers
  for 10 s after a warm-up, on a Redis, NATS and PostgreSQL started for this scenario, so
  that nothing else's work is in their CPU time. The harness reads utime + stime from
  \`/proc/<pid>/stat\` of the gateways (or baseline nodes), the persister, \`redis-server\`,
  \`nats-server\` (each of three for R3) and the PostgreSQL cluster's whole process tree: the
  postmaster's own and reaped children's time (cutime + cstime) plus every live descendant
  (backends, WAL writer, checkpointer, background writer, autovacuum), so backends that end
  in the window still count, once. The window runs from the first send until the persister's
  durable consumer has nothing pending: all of a message's work is in it. Gateway CPU per
  delivery = gateway CPU ÷ deliveries; CPU per message = a tier's CPU ÷ acked sends. The
  session-api is not counted (it serves only the sessions' creation before the window).
- **Durability cost.** Ours again in *steady* under other settings: JetStream R3 (a
  three-server cluster; each PubAck waits for a second server to store the message) and
  PostgreSQL \`synchronous_commit = off\` (\`ALTER SYSTEM\` and a reload; a crash can lose
  the last few hundred milliseconds of commits, which JetStream redelivers since the
  persister acks only after the commit). JetStream's \`sync_interval: always\` (an fsync per
  write) needs nats-server ≥ 2.10; the Debian package here is 2.9.10, which has no such
  option, so R3 is what is measured for JetStream.
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

${keptSections(currentPage)}## Latest figures

${renderSummary(result, DOCS_CHART).replace(/^### /gm, '#### ').replace(/^## /m, '### ')}
`;
}
