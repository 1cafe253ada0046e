import { createVerifier } from '@chat/backend';
import { loadConfigOrExit } from '@chat/config';
import { Lifecycle, Readiness } from '@chat/service-kit';
import { createLogger } from '@chat/telemetry';
import { connect } from '@nats-io/transport-node';
import { JetStreamDeadLetters } from './dead-letters.ts';
import { loadWebhookSettingsOrExit } from './webhook-endpoints.ts';
import { WebhookDispatcher } from './webhook-dispatcher.ts';
import { WebhookMetrics } from './webhook-metrics.ts';
import { WebhooksServer } from './webhooks-server.ts';

const config = loadConfigOrExit({ requireAuth: true });
const settings = loadWebhookSettingsOrExit(process.env);
const logger = createLogger('webhooks', config.logLevel);
const metrics = new WebhookMetrics();

const nc = await connect({ servers: [...config.natsServers], name: `webhooks-${config.instanceId}`, maxReconnectAttempts: -1, waitOnFirstConnect: true });
const deadLetters = await JetStreamDeadLetters.create(nc, settings.deadLetterStream);
const dispatcher = new WebhookDispatcher({ nc, queue: config.queue, endpoints: settings.endpoints, consumerPrefix: settings.consumerPrefix, deadLetters, metrics, logger });
const readiness = new Readiness().add('nats', () => nc.flush());
const server = new WebhooksServer({ host: config.host, port: settings.port, readiness, metrics, deadLetters, verifier: createVerifier(config) });

// Stopped in reverse: readiness turns false, attempts in flight finish, then the server and the connection close.
const lifecycle = new Lifecycle(logger)
  .add({ name: 'nats', start: () => Promise.resolve(), stop: () => nc.close() })
  .add(server)
  .add(dispatcher)
  .add({ name: 'draining', start: () => Promise.resolve(), stop: () => Promise.resolve(readiness.drain()) });
lifecycle.stopOnSignals();
await lifecycle.start();
logger.info({ port: server.port, endpoints: settings.endpoints.map((e) => e.id) }, 'webhooks running');
