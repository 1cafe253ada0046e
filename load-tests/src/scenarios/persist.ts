import { randomUUID } from 'node:crypto';
import { JetStreamQueue } from '@chat/jetstream';
import type { ChatMessage } from '@chat/protocol';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { queueNames, sleep, type BenchContext } from '../context.ts';
import { LatencyRecorder } from '../histogram.ts';
import { deleteStream, withPg } from '../infra.ts';
import { CpuMeter } from '../proc-stats.ts';
import type { PersistResult } from '../result.ts';
import { natsServers, startService, type QueueNames } from '../servers/chat-system.ts';
import type { ServiceProcess } from '../servers/service-process.ts';

/**
 * Scenario 4: publish a backlog into a stream of this run only, then time one persister
 * draining it into PostgreSQL; afterwards, the lag of messages published at a steady rate.
 */
export async function runPersist(ctx: BenchContext): Promise<PersistResult> {
  const p = ctx.profile.persist;
  const queue = queueNames(ctx.runId, 'persist');
  const sessionIds = Array.from({ length: p.sessions }, () => randomUUID());
  const liveSession = randomUUID();
  const nc = await natsConnect({ servers: natsServers(ctx.infra.natsUrl) });
  // The project's own publisher: same subject scheme, payload and de-duplication id as the gateway's.
  const publisher = await JetStreamQueue.create(nc, { stream: queue.stream, subjectPrefix: queue.subjectPrefix, replicas: ctx.infra.clustered ? 3 : 1, publishTimeoutMs: 30_000 });
  let persister: ServiceProcess | null = null;
  try {
    ctx.log(`persist: publishing ${p.backlog} messages into ${queue.stream}`);
    const publishStarted = performance.now();
    await publishWindowed(p.backlog, p.publishWindow, (i) => publisher.publish(benchMessage(sessionIds[i % p.sessions] ?? liveSession, Math.floor(i / p.sessions) + 1)));
    const publishSeconds = (performance.now() - publishStarted) / 1000;
    const lastSeq = (await (await jetstreamManager(nc)).streams.info(queue.stream)).state.last_seq;
    ctx.log(`persist: published in ${publishSeconds.toFixed(1)} s; starting one persister`);

    const started: ServiceProcess[] = [];
    const drainStarted = performance.now();
    const endpoint = await startService({ ...ctx, queue }, 'persister', 'services/persister/src/main.ts', 'PERSISTER_PORT', started);
    persister = endpoint.process;
    const meter = new CpuMeter([persister.pid]);
    meter.start();
    // The rate counts from readiness, so process start-up is not charged to throughput.
    const readyAt = performance.now();
    const rowsAtReady = await countRows(ctx.infra.databaseUrl, sessionIds);
    await waitForAckFloor(nc, queue, lastSeq, p.drainDeadlineMs, drainStarted);
    const doneAt = performance.now();
    const rowsWritten = await countRows(ctx.infra.databaseUrl, sessionIds);
    const drainMs = doneAt - drainStarted;
    const [cpu] = meter.stop();
    ctx.log(`persist: ${rowsWritten} rows in ${(drainMs / 1000).toFixed(1)} s`);

    const livePublished = Math.max(1, Math.round((p.liveRate * p.liveMs) / 1000));
    const lag = await measureLag(ctx.infra.databaseUrl, publisher, liveSession, p.liveRate, livePublished);
    await withPg(ctx.infra.databaseUrl, (client) => client.query('delete from chat_messages where session_id = any($1::uuid[])', [[...sessionIds, liveSession]]));
    return {
      backlog: p.backlog,
      published: p.backlog,
      publishPerSec: Math.round(p.backlog / publishSeconds),
      rowsWritten,
      drainMs: Math.round(drainMs),
      // On a busy machine the backlog may be gone before readiness is seen: then only the time from the start tells a rate.
      rowsPerSec: rowsAtReady < rowsWritten ? Math.round((rowsWritten - rowsAtReady) / ((doneAt - readyAt) / 1000)) : Math.round(rowsWritten / (drainMs / 1000)),
      lag: lag.summary(),
      liveMessages: lag.count,
      livePublished,
      persisterCpuPercent: cpu ?? 0,
      stream: queue.stream,
    };
  } finally {
    await persister?.stop();
    await publisher.close().catch(() => undefined);
    await deleteStream(ctx.infra.natsUrl, queue).catch(() => undefined);
  }
}

function benchMessage(sessionId: string, seq: number, body = `persist ${seq}`): ChatMessage {
  return { type: 'message', id: randomUUID(), sessionId, seq, userId: sessionId, body, metadata: {}, timestamp: new Date().toISOString() };
}

async function publishWindowed(total: number, window: number, publish: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < total) await publish(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, total) }, lane));
}

async function countRows(databaseUrl: string, sessionIds: string[]): Promise<number> {
  return withPg(databaseUrl, async (client) => {
    const result = await client.query<{ n: string }>('select count(*) as n from chat_messages where session_id = any($1::uuid[])', [sessionIds]);
    return Number(result.rows[0]?.n ?? 0);
  });
}

/**
 * Waits until the persister has acknowledged every message of the backlog; it acknowledges
 * only after the insert commits. Polling the consumer, not the table, keeps the watcher's
 * own load off PostgreSQL.
 */
async function waitForAckFloor(nc: Awaited<ReturnType<typeof natsConnect>>, queue: QueueNames, lastSeq: number, deadlineMs: number, since: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  while (performance.now() - since < deadlineMs) {
    const info = await jsm.consumers.info(queue.stream, queue.consumer).catch(() => null);
    if (info && info.ack_floor.stream_seq >= lastSeq) return;
    await sleep(50);
  }
}

/** Publishes at a steady rate after the drain and times each message until its row is visible. */
async function measureLag(databaseUrl: string, publisher: JetStreamQueue, sessionId: string, rate: number, total: number): Promise<LatencyRecorder> {
  const lag = new LatencyRecorder();
  const durationMs = (total * 1000) / rate;
  const publishedAt = new Map<number, number>();
  const publishing = (async () => {
    const started = performance.now();
    for (let seq = 1; seq <= total; seq++) {
      // One reading of the clock: a second one could make the wait negative.
      const wait = started + ((seq - 1) * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
      publishedAt.set(seq, performance.now());
      await publisher.publish(benchMessage(sessionId, seq));
    }
  })();
  await withPg(databaseUrl, async (client) => {
    let seen = 0;
    const deadline = performance.now() + durationMs + 30_000;
    while (seen < total && performance.now() < deadline) {
      const result = await client.query<{ seq: string }>('select seq from chat_messages where session_id = $1 and seq > $2 order by seq', [sessionId, seen]);
      const now = performance.now();
      for (const row of result.rows) {
        const seq = Number(row.seq);
        const at = publishedAt.get(seq);
        if (at !== undefined) lag.recordMs(now - at);
        seen = Math.max(seen, seq);
      }
      await sleep(10);
    }
  });
  await publishing;
  return lag;
}
