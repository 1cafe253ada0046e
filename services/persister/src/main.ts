import { createConsumerBackend } from '@chat/composition';
import { loadConfigOrExit } from '@chat/config';
import { Lifecycle, Readiness } from '@chat/service-kit';
import { createLogger, startTelemetry } from '@chat/telemetry';
import { createHealthServer } from './health-server.ts';
import { PERSISTER_CONSUMER_TUNING, PersisterWorker } from './persister-worker.ts';
import { persisterMetrics } from './persister-metrics.ts';

/**
 * The loop mostly waits between batches, and the default 10 ms event-loop sampling woke it 100 times
 * a second (about 5 ms of CPU a second on the benchmark machine). Sampled every 50 ms, the linger
 * between pulls, a block long enough to hold up the next batch still shows; shorter ones may not.
 */
const EVENT_LOOP_RESOLUTION_MS = 50;

const config = loadConfigOrExit();
const telemetry = startTelemetry({ serviceName: 'persister', instanceId: config.instanceId, eventLoopResolutionMs: EVENT_LOOP_RESOLUTION_MS });
const logger = createLogger('persister', config.logLevel);

const backend = createConsumerBackend(config, {
  role: 'persister',
  queryTimeoutMs: 15_000,
  consumer: PERSISTER_CONSUMER_TUNING,
  onError: (error) => logger.warn({ err: error }, 'consuming from JetStream failed; retrying'),
});
const { store, deadLetters } = backend;
const worker = new PersisterWorker({
  consumer: () => backend.consumer(),
  // Inserts are timed as PostgreSQL dependency calls by the backend.
  store,
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
  .add({ name: 'backend', start: () => Promise.resolve(), stop: () => backend.close() })
  .add(health)
  .add(worker)
  .add({ name: 'draining', start: () => Promise.resolve(), stop: () => Promise.resolve(readiness.drain()) });
lifecycle.stopOnSignals();
await lifecycle.start();
logger.info({ port: health.port, stream: config.queue.stream, consumer: config.queue.consumer }, 'persister running');
