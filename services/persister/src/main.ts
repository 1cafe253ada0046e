import { timedStore } from '@chat/composition';
import { loadConfigOrExit } from '@chat/config';
import { createDatabase, KyselyChatStore, KyselyDeadLetterStore } from '@chat/db';
import { Lifecycle, Readiness } from '@chat/service-kit';
import { createLogger, startTelemetry } from '@chat/telemetry';
import { createHealthServer } from './health-server.ts';
import { PersisterWorker } from './persister-worker.ts';
import { persisterMetrics } from './persister-metrics.ts';

const config = loadConfigOrExit();
const telemetry = startTelemetry({ serviceName: 'persister', instanceId: config.instanceId });
const logger = createLogger('persister', config.logLevel);

const db = createDatabase({ kind: 'postgres', url: config.databaseUrl, queryTimeoutMs: 15_000 });
const store = new KyselyChatStore(db);
const deadLetters = new KyselyDeadLetterStore(db);
const worker = new PersisterWorker({
  natsServers: config.natsServers,
  connectionName: `persister-${config.instanceId}`,
  queue: config.queue,
  // Each insert is timed as a PostgreSQL dependency call.
  store: timedStore(store),
  deadLetters,
  logger,
  metrics: persisterMetrics(telemetry.metrics),
});
const readiness = new Readiness()
  .add('postgres', () => store.ping())
  .add('nats', () => worker.checkQueue())
  .add('writes', () => worker.checkWrites());
const health = createHealthServer({ host: config.host, port: config.ports.persister, readiness, metrics: telemetry.handleMetrics });

// Started in order, stopped in reverse: readiness turns false first, the batch in hand finishes, then the clients close.
const lifecycle = new Lifecycle(logger)
  .add({ name: 'telemetry', start: () => Promise.resolve(), stop: () => telemetry.shutdown() })
  .add({ name: 'database', start: () => Promise.resolve(), stop: () => store.close() })
  .add(health)
  .add(worker)
  .add({ name: 'draining', start: () => Promise.resolve(), stop: () => Promise.resolve(readiness.drain()) });
lifecycle.stopOnSignals();
await lifecycle.start();
logger.info({ port: health.port, stream: config.queue.stream, consumer: config.queue.consumer }, 'persister running');
