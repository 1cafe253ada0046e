import { randomUUID } from 'node:crypto';
import { createSessions } from '../api-client.ts';
import { queueNames, sumRecords, type BenchContext } from '../context.ts';
import { mergeEncoded } from '../histogram.ts';
import { WorkerPool } from '../generator/pool.ts';
import { withPg } from '../infra.ts';
import { cpuSeconds } from '../proc-stats.ts';
import type { HistoryResult } from '../result.ts';
import { ChatSystem } from '../servers/chat-system.ts';

/** Scenario 5: GET history pages on a session of its own holding `rows` messages, seeded in one statement. */
export async function runHistory(ctx: BenchContext): Promise<HistoryResult> {
  const p = ctx.profile.history;
  const system = await ChatSystem.start({ ...ctx, queue: queueNames(ctx.runId, 'history'), gateways: 0, persister: false });
  const pool = new WorkerPool(p.workers);
  let sessionId = '';
  try {
    const [session] = await createSessions(system.api.url, ctx.signer, 1, 1);
    if (!session) throw new Error('no session created');
    sessionId = session.id;
    const reader = session.members[0] ?? randomUUID();
    ctx.log(`history: seeding ${p.rows} rows`);
    const seedStarted = performance.now();
    await withPg(ctx.infra.databaseUrl, async (client) => {
      await client.query(
        `insert into chat_messages (id, session_id, seq, user_id, message, timestamp, metadata, client_msg_id, user_name)
         select gen_random_uuid(), $1::uuid, g, $2::uuid, 'history message ' || g, now() - make_interval(secs => $3::int - g), '{}'::jsonb, null, 'bench reader'
         from generate_series(1, $3::int) as g`,
        [sessionId, reader, p.rows],
      );
      await client.query('analyze chat_messages');
    });
    const seedMs = performance.now() - seedStarted;
    ctx.log(`history: seeded in ${(seedMs / 1000).toFixed(1)} s; reading pages of ${p.pageSize}`);
    const token = await ctx.signer.sign({ sub: reader, name: 'bench reader' });
    const apiCpuBefore = cpuSeconds(system.api.process.pid);
    const replies = await pool.all(
      () => ({
        kind: 'history',
        apiUrl: system.api.url,
        sessionId,
        token,
        maxSeq: p.rows,
        limit: p.pageSize,
        concurrency: Math.max(1, Math.round(p.concurrency / p.workers)),
        durationMs: p.durationMs,
        maxRequests: Math.ceil(p.maxRequests / p.workers),
      }),
      p.durationMs + 60_000,
    );
    const apiCpu = cpuSeconds(system.api.process.pid) - apiCpuBefore;
    const requests = replies.reduce((sum, reply) => sum + reply.requests, 0);
    const seconds = Math.max(...replies.map((reply) => reply.durationMs)) / 1000;
    return {
      rows: p.rows,
      seedMs: Math.round(seedMs),
      pageSize: p.pageSize,
      concurrency: p.concurrency,
      requests,
      requestsPerSec: Math.round(requests / seconds),
      errors: sumRecords(replies.map((reply) => reply.errors)),
      latency: mergeEncoded(replies.map((reply) => reply.histogram)).summary(),
      apiUsPerPage: Math.round((apiCpu * 1e6) / Math.max(1, requests)),
      generatorUsPerPage: Math.round(replies.reduce((sum, reply) => sum + reply.cpuUs, 0) / Math.max(1, requests)),
    };
  } finally {
    await pool.stop();
    await system.stop();
    if (sessionId) await withPg(ctx.infra.databaseUrl, (client) => client.query('delete from chat_messages where session_id = $1', [sessionId]));
  }
}
