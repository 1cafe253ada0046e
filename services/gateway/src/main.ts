import { createBackend, createChatSwitch, createVerifier } from '@chat/composition';
import { loadConfigOrExit } from '@chat/config';
import { join } from 'node:path';
import { createStaticSite, Lifecycle } from '@chat/service-kit';
import { createLogger, startTelemetry } from '@chat/telemetry';
import { Gateway } from './gateway.ts';

const config = loadConfigOrExit({ requireAuth: true });
const telemetry = startTelemetry({ serviceName: 'gateway', instanceId: config.instanceId });
const logger = createLogger('gateway', config.logLevel);

const backend = await createBackend(config, {
  role: 'gateway',
  onError: (error, dependency) => logger.debug({ err: error, dependency }, 'dependency connection error'),
});
const chatSwitch = createChatSwitch(config, backend, (error) => logger.warn({ err: error }, 'could not read the chat switch; keeping the last value'));
const gateway = new Gateway({
  config,
  verifier: createVerifier(config),
  // With Redis, connection caps and a user's sends (with the session-api's posts) count across every replica.
  ports: backend,
  logger,
  metricsHandler: (req, res) => telemetry.handleMetrics(req, res),
  metrics: telemetry.metrics,
  chatSwitch,
  // The built chat UI, so a browser needs only the gateway's address (REST goes to the session-api).
  fallback: createStaticSite(config.webRoot ?? join(import.meta.dirname, '..', '..', '..', 'apps', 'web', 'dist'), config.web),
});

// Stopped in reverse: the gateway drains first, then the clients it used, then telemetry flushes.
const lifecycle = new Lifecycle(logger)
  .add({ name: 'telemetry', start: () => Promise.resolve(), stop: () => telemetry.shutdown() })
  .add({
    name: 'backend',
    start: () => Promise.resolve(),
    stop: () => backend.close(),
  })
  .add({ name: 'chat switch', start: () => chatSwitch.start(), stop: () => Promise.resolve(chatSwitch.stop()) })
  .add(gateway);
lifecycle.stopOnSignals();
await lifecycle.start();
