import { createBackend, createChatSwitch, createVerifier } from '@chat/composition';
import { loadConfigOrExit } from '@chat/config';
import { Lifecycle } from '@chat/service-kit';
import { createLogger, startTelemetry } from '@chat/telemetry';
import { createApiApp } from './api-app.ts';
import { ApiServer } from './api-server.ts';
import { defaultReadiness } from './health-routes.ts';

const config = loadConfigOrExit({ requireAuth: true });
const telemetry = startTelemetry({ serviceName: 'session-api', instanceId: config.instanceId });
const logger = createLogger('session-api', config.logLevel);

const backend = await createBackend(config, {
  role: 'session-api',
  onError: (error, dependency) => logger.debug({ err: error, dependency }, 'dependency connection error'),
});
const chatSwitch = createChatSwitch(config, backend, (error) => logger.warn({ err: error }, 'could not read the chat switch; keeping the last value'));
const readiness = defaultReadiness(backend);
const app = createApiApp({
  config,
  verifier: createVerifier(config),
  // With Redis, every replica (and every gateway) counts against the same per-user budgets.
  ports: backend,
  logger,
  readiness,
  metrics: (req, res) => telemetry.handleMetrics(req, res),
  chatSwitch,
});
const server = new ApiServer({ handler: app, host: config.host, port: config.ports.api, readiness, graceMs: config.shutdownGraceMs, logger });

// Stopped in reverse: the server drains first, then the clients it used, then telemetry flushes.
const lifecycle = new Lifecycle(logger)
  .add({ name: 'telemetry', start: () => Promise.resolve(), stop: () => telemetry.shutdown() })
  .add({
    name: 'backend',
    start: () => Promise.resolve(),
    stop: () => backend.close(),
  })
  .add({ name: 'chat switch', start: () => chatSwitch.start(), stop: () => Promise.resolve(chatSwitch.stop()) })
  .add(server);
lifecycle.stopOnSignals();
await lifecycle.start();
