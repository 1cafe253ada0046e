import { createEventBackend, createVerifier } from '@chat/composition';
import { loadConfigOrExit } from '@chat/config';
import { JetStreamQueueConsumer } from '@chat/jetstream';
import { Lifecycle, Readiness } from '@chat/service-kit';
import { createLogger } from '@chat/telemetry';
import { JetStreamDeadLetters } from './dead-letters.ts';
import { redisMarks, UnreadOfflineWatcher } from './unread-offline-watcher.ts';
import { loadWebhookSettingsOrExit } from './webhook-endpoints.ts';
import { WebhookDispatcher } from './webhook-dispatcher.ts';
import { WebhookMetrics } from './webhook-metrics.ts';
import { WebhooksServer } from './webhooks-server.ts';

const config = loadConfigOrExit({ requireAuth: true });
const settings = loadWebhookSettingsOrExit(process.env);
const logger = createLogger('webhooks', config.logLevel);
const metrics = new WebhookMetrics();

// member.unread_offline needs live state (members, presence, last connection) from Redis.
const watchUnread = settings.endpoints.some((endpoint) => endpoint.events.includes('member.unread_offline'));
const backend = await createEventBackend(config, {
  role: 'webhooks',
  liveState: watchUnread,
  onError: (error, dependency) => logger.debug({ err: error, dependency }, 'dependency connection error'),
});
const { nats, state, redis } = backend;
const deadLetters = await JetStreamDeadLetters.create(nats, settings.deadLetterStream);
const dispatcher = new WebhookDispatcher({ nc: nats, queue: config.queue, endpoints: settings.endpoints, consumerPrefix: settings.consumerPrefix, deadLetters, metrics, logger });
const readiness = new Readiness().add('nats', () => nats.flush());

const watcher =
  state && redis
    ? new UnreadOfflineWatcher({
        consumer: await JetStreamQueueConsumer.create(nats, { ...config.queue, consumer: `${settings.consumerPrefix}-unread`, batchSize: 500, startAt: 'new', onError: (error) => logger.warn({ err: error }, 'unread consumer failed; retrying') }),
        state,
        events: backend.sessionEvents,
        marks: redisMarks(redis, `webhooks:unread-offline:${settings.consumerPrefix}`),
        minutes: settings.unreadOfflineMinutes,
        logger,
      })
    : undefined;
if (state) readiness.add('redis', () => state.ping());
const server = new WebhooksServer({ host: config.host, port: settings.port, readiness, metrics, deadLetters, verifier: createVerifier(config), endpoints: settings.endpoints });

// Stopped in reverse: readiness turns false, attempts in flight finish, then the server and the connections close.
const lifecycle = new Lifecycle(logger)
  .add({ name: 'backend', start: () => Promise.resolve(), stop: () => backend.close() })
  .add(server)
  .add(dispatcher)
  .add(watcher ?? { name: 'unread-offline-watcher (off)', start: () => Promise.resolve(), stop: () => Promise.resolve() })
  .add({ name: 'draining', start: () => Promise.resolve(), stop: () => Promise.resolve(readiness.drain()) });
lifecycle.stopOnSignals();
await lifecycle.start();
logger.info({ port: server.port, endpoints: settings.endpoints.map((e) => e.id) }, 'webhooks running');
