export { Persister, PersistFailedError, type PersisterDeps, type PersisterLogger, type PersisterMetrics } from './persister.ts';
export { PERSISTER_CONSUMER_TUNING, PersisterWorker, type PersisterWorkerOptions } from './persister-worker.ts';
export { createHealthServer, type HealthServerOptions } from './health-server.ts';
export { persisterMetrics } from './persister-metrics.ts';
