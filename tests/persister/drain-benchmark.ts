/**
 * How fast one persister drains a backlog into PostgreSQL:
 *   node tests/persister/drain-benchmark.ts [messages=50000] [batchSize=500]
 * Publishes the backlog to a fresh stream first, then starts one `services/persister` process.
 */
import { PersisterFixture } from './persister-fixture.ts';

const total = Number(process.argv[2] ?? 50_000);
const batchSize = process.argv[3] ?? '500';
const sessions = 100;

const fixture = await new PersisterFixture().open();
try {
  const publishStart = performance.now();
  const sent = await fixture.publish(sessions, Math.ceil(total / sessions));
  const publishSeconds = (performance.now() - publishStart) / 1000;

  const child = fixture.spawnPersister({ PERSIST_BATCH_SIZE: batchSize });
  const start = performance.now();
  let firstRowAt: number | undefined;
  for (let count = 0; count < sent.length; ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    count = await fixture.countRows(sent);
    if (count > 0) firstRowAt ??= performance.now();
  }
  const end = performance.now();
  child.kill('SIGTERM');
  const drainSeconds = (end - (firstRowAt ?? start)) / 1000;
  console.log(
    JSON.stringify({
      messages: sent.length,
      batchSize: Number(batchSize),
      publishPerSecond: Math.round(sent.length / publishSeconds),
      drainSeconds: Number(drainSeconds.toFixed(2)),
      rowsPerSecond: Math.round(sent.length / drainSeconds),
      wallSecondsIncludingStartup: Number(((end - start) / 1000).toFixed(2)),
    }),
  );
} finally {
  await fixture.dispose();
}
